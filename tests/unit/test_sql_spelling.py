"""A query that found nothing because of a value's case runs in the data's spelling (`assistant/sql/spelling.py`):
which literals are looked up, in which columns, and what is left alone."""

from pathlib import Path

import pytest

from assistant.sql.spelling import respelled
from tests.unit.scripted_model import ScriptedModel, reply
from tests.unit.test_sql_generate import service

SPELLINGS = {"jetblue airways": "JetBlue Airways", "beijing": "Beijing"}
COLUMNS = {"airlines": {"airline", "abbreviation"}, "airports": {"city", "airline"}}
asked: list[tuple[str, str, str]] = []


def lookup(table: str, column: str, literal: str) -> str | None:
    asked.append((table, column, literal))
    return SPELLINGS.get(literal.lower())


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT a.abbreviation FROM airlines AS a WHERE a.airline = 'Jetblue Airways'",
     "SELECT a.abbreviation FROM airlines AS a WHERE a.airline = 'JetBlue Airways'"),
    ("SELECT abbreviation FROM airlines WHERE 'jetblue airways' = airline",
     "SELECT abbreviation FROM airlines WHERE 'JetBlue Airways' = airline"),
    ("SELECT abbreviation FROM airlines WHERE airline IN ('x', 'jetblue airways')",
     "SELECT abbreviation FROM airlines WHERE airline IN ('x', 'JetBlue Airways')"),
    ("SELECT abbreviation FROM airlines WHERE airline LIKE 'jetblue%' AND uid LIKE '1%'",
     "SELECT abbreviation FROM airlines WHERE airline ILIKE 'jetblue%' AND uid LIKE '1%'"),
    ("SELECT count(*) FROM flights WHERE airline IN (SELECT uid FROM airlines WHERE airline = 'jetblue airways')",
     "SELECT COUNT(*) FROM flights WHERE airline IN (SELECT uid FROM airlines WHERE airline = 'JetBlue Airways')"),
])
def test_a_literal_compared_to_a_text_column_takes_the_one_spelling_the_column_holds(sql: str, expected: str) -> None:
    assert respelled(sql, COLUMNS, lookup) == expected


@pytest.mark.parametrize("sql", [
    "SELECT abbreviation FROM airlines WHERE airline = 'JetBlue Airways'",  # already the data's spelling
    "SELECT abbreviation FROM airlines WHERE airline = 'Delta'",  # no spelling of it in the column
    "SELECT s.airline FROM (SELECT airline FROM airlines) AS s WHERE s.airline = 'jetblue airways'",  # derived
    "SELECT city FROM airlines, airports WHERE airline = 'jetblue airways'",  # two tables have the column
    "SELECT abbreviation FROM airlines WHERE uid = 'jetblue airways'",  # not a known text column
    "SELECT abbreviation FROM airlines WHERE airline > 'jetblue'",  # only =, IN and LIKE
    "SELECT abbreviation FROM airlines WHERE airline ILIKE 'jetblue%'",  # already without case
    "SELECT abbreviation FROM airlines WHERE airline = 5",  # not text
    "SELECT FROM WHERE (",  # does not parse
])
def test_nothing_changes_where_no_single_spelling_of_a_known_column_applies(sql: str) -> None:
    assert respelled(sql, COLUMNS, lookup) is None


def test_only_known_columns_are_ever_looked_up() -> None:
    asked.clear()
    respelled("SELECT 1 FROM airlines AS a JOIN secrets AS s ON a.uid = s.uid WHERE s.name = 'beijing' AND "
              "a.airline = 'beijing'", COLUMNS, lookup)
    assert asked == [("airlines", "airline", "beijing")]


def test_a_query_that_found_nothing_runs_again_in_the_data_spelling_and_keeps_the_rows(tmp_path: Path) -> None:
    """Through the generator: guard, the role's runner, and the answer carries the SQL that ran."""
    model = ScriptedModel(replies=[reply("SELECT count(*) AS n FROM permits WHERE kind = 'Building' GROUP BY kind")])
    answer = service(tmp_path, model, respell_values=True).ask("Building permits?", role="civil_servant")
    assert answer.error is None and answer.rows == [[2]] and "'building'" in answer.sql and answer.attempts == 1
    like = ScriptedModel(replies=[reply("SELECT count(*) AS n FROM permits WHERE kind LIKE 'BUILD%' GROUP BY kind")])
    answer = service(tmp_path, like, respell_values=True).ask("Building permits?", role="civil_servant")
    assert answer.rows == [[2]] and "ILIKE 'BUILD%'" in answer.sql
    model = ScriptedModel(replies=[reply("SELECT count(*) AS n FROM permits WHERE kind = 'Building' GROUP BY kind")])
    off = service(tmp_path, model, respell_values=False).ask("Building permits?", role="civil_servant")
    assert off.error is None and off.rows == [] and "'Building'" in off.sql


def test_a_rewrite_that_still_finds_nothing_is_dropped(tmp_path: Path) -> None:
    still_empty = ScriptedModel(replies=[reply("SELECT count(*) AS n FROM permits WHERE kind = 'STREET' AND fee > "
                                               "9000 GROUP BY kind")])
    answer = service(tmp_path, still_empty, respell_values=True).ask("Costly street permits?", role="civil_servant")
    assert answer.rows == [] and "'STREET'" in answer.sql and answer.error is None
    spaced = ScriptedModel(replies=[reply("SELECT count(*) AS n FROM permits WHERE kind = ' street' GROUP BY kind")])
    answer = service(tmp_path, spaced, respell_values=True).ask("Street permits?", role="civil_servant")
    assert answer.rows == [] and "' street'" in answer.sql  # spaces are part of a value: not respelled


def test_only_unmasked_readable_columns_outside_disclosure_control_may_be_looked_up() -> None:
    from assistant.sql.generate import SqlContext, _readable
    from assistant.sql.guard import Approval, TableAccess

    approval = Approval.of([TableAccess("people", {"id": "INTEGER", "name": "VARCHAR", "ssn": "VARCHAR",
                                                   "city": "VARCHAR"}, masked=frozenset({"name"}),
                            denied=frozenset({"ssn"}))])
    readable = _readable(SqlContext(Path("x.duckdb"), [], approval))
    assert readable("people", "city") and not readable("people", "name") and not readable("people", "ssn")
    assert not readable("secrets", "city")
