"""A query that found nothing because of a value's case runs in the data's spelling (`assistant/sql/spelling.py`):
which literals are looked up, in which columns, and what is left alone."""

from pathlib import Path

import pytest

from assistant.sql.spelling import MAX_LOOKUPS, found_nothing, respelled
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
    moved = respelled(sql, COLUMNS, lookup)
    assert moved is not None and moved[0] == expected


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
    "SELECT abbreviation FROM airlines WHERE airline NOT LIKE 'jet%'",  # negated: a stricter exclusion
    "SELECT abbreviation FROM airlines WHERE airline NOT IN ('jetblue airways')",
    "SELECT abbreviation FROM airlines WHERE NOT (airline = 'jetblue airways' OR airline LIKE 'x%')",
    "SELECT abbreviation FROM airlines WHERE airline <> 'jetblue airways'",
    "WITH airlines AS (SELECT 'a' AS airline) SELECT * FROM airlines WHERE airline = 'jetblue airways'",  # a CTE
])
def test_nothing_changes_where_no_single_spelling_of_a_known_column_applies(sql: str) -> None:
    assert respelled(sql, COLUMNS, lookup) is None


def test_what_changed_is_said_and_lookups_are_capped() -> None:
    moved = respelled("SELECT 1 FROM airlines WHERE airline = 'jetblue airways' OR airline LIKE 'j%' OR airline = "
                      "'jetblue airways'", COLUMNS, lookup)
    assert moved is not None and moved[1] == ["'jetblue airways' -> 'JetBlue Airways'", "LIKE -> ILIKE"]
    asked.clear()
    many = ", ".join(f"'x{n}'" for n in range(MAX_LOOKUPS + 30))
    assert respelled(f"SELECT 1 FROM airlines WHERE airline IN ({many})", COLUMNS, lookup) is None
    assert len(asked) == MAX_LOOKUPS


def test_a_value_holding_a_quote_is_written_back_as_one_literal() -> None:
    moved = respelled("SELECT 1 FROM airlines WHERE airline = 'o''brien air'", COLUMNS,
                      lambda t, c, v: "O'Brien Air")
    assert moved is not None and moved[0] == "SELECT 1 FROM airlines WHERE airline = 'O''Brien Air'"


@pytest.mark.parametrize(("rows", "nothing"), [([], True), ([[0]], True), ([[None, 0]], True), ([[0], [0]], False),
                                               ([[2]], False), ([["x"]], False), ([[0.0, None]], True)])
def test_found_nothing_is_no_rows_or_one_row_of_zeros_and_nulls(rows: list[list[object]], nothing: bool) -> None:
    assert found_nothing(rows) is nothing


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
    assert answer.respelled == ["'Building' -> 'building'"] and answer.as_dict()["respelled"] == answer.respelled
    count = ScriptedModel(replies=[reply("SELECT count(*) AS n FROM permits WHERE kind = 'STREET'")])
    answer = service(tmp_path, count, respell_values=True).ask("Street permits?", role="civil_servant")
    assert answer.rows == [[2]] and "'street'" in answer.sql  # a count over nothing is one row of 0: found nothing
    like = ScriptedModel(replies=[reply("SELECT count(*) AS n FROM permits WHERE kind LIKE 'BUILD%' GROUP BY kind")])
    answer = service(tmp_path, like, respell_values=True).ask("Building permits?", role="civil_servant")
    assert answer.rows == [[2]] and "ILIKE 'BUILD%'" in answer.sql
    model = ScriptedModel(replies=[reply("SELECT count(*) AS n FROM permits WHERE kind = 'Building' GROUP BY kind")])
    off = service(tmp_path, model, respell_values=False).ask("Building permits?", role="civil_servant")
    assert off.error is None and off.rows == [] and "'Building'" in off.sql and off.respelled == []


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


def test_a_role_database_that_cannot_be_opened_leaves_the_answer_as_it_ran(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.sql import generate
    from core.errors import GovDataError

    model = ScriptedModel(replies=[reply("SELECT count(*) AS n FROM permits WHERE kind = 'STREET'")])
    svc = service(tmp_path, model, respell_values=True)
    real = generate.locked_connection
    calls: list[int] = []

    def first_works(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) > 1:  # the first opens for the prompt's rows; the repair's own lookup finds it locked
            raise GovDataError("the approved tables are being changed; try again")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(generate, "locked_connection", first_works)
    answer = svc.ask("Street permits?", role="civil_servant")
    assert answer.error is None and answer.rows == [[0]] and "'STREET'" in answer.sql and answer.respelled == []


def test_the_web_app_says_which_values_ran_respelled_escaped() -> None:
    from types import SimpleNamespace

    from assistant.ui.render import uncertainty_markdown

    answer = SimpleNamespace(notice=None, fallback=False, uncertain=False, respelled=["'Building' -> 'building'"])
    assert "as the data spells them: &#x27;Building&#x27; -&gt; &#x27;building&#x27;" in uncertainty_markdown(answer,
                                                                                                       "en")
    assert "按数据中的写法运行" in uncertainty_markdown(answer, "zh")
