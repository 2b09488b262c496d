"""The SQL guard, in two styles: a parametrised allow/deny list and fixture files of SQL -> verdict.
Allowed queries are also executed on a real DuckDB to prove the rewritten SQL is valid and limited."""

import re
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from assistant.cli.common import error_text
from assistant.sql.guard import Approval, SqlGuard, TableAccess
from tests.unit.sql_guard_cases import ALLOW, DENY

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sql" / "guard_cases.sql"
CAP = 50

PEOPLE = {"id": "INTEGER", "name": "VARCHAR", "city": "VARCHAR", "phone": "VARCHAR", "ssn": "VARCHAR",
          "birth": "DATE"}
CITIES = {"city": "VARCHAR", "pop": "BIGINT", "province": "VARCHAR"}
COMPLAINTS = {"id": "INTEGER", "kind": "VARCHAR", "borough": "VARCHAR", "created": "DATE", "note": "VARCHAR"}
APPROVAL = Approval.of([
    TableAccess("people", PEOPLE, masked=frozenset({"phone"}), denied=frozenset({"ssn"})),
    TableAccess("cities", CITIES),
    TableAccess("complaints", COMPLAINTS),
])
GUARD = SqlGuard(row_cap=CAP)


@pytest.fixture(scope="module")
def database() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE people (id INTEGER, name VARCHAR, city VARCHAR, phone VARCHAR, ssn VARCHAR, birth DATE)")
    con.execute("CREATE TABLE cities (city VARCHAR, pop BIGINT, province VARCHAR)")
    con.execute("CREATE TABLE complaints (id INTEGER, kind VARCHAR, borough VARCHAR, created DATE, note VARCHAR)")
    con.execute("CREATE TABLE secret (id INTEGER, x VARCHAR)")
    con.execute("INSERT INTO people SELECT i, 'p' || i, CASE WHEN i % 2 = 0 THEN 'Beijing' ELSE 'Shanghai' END, "
                "'555-' || i, 'ssn' || i, DATE '1990-01-01' + i::INTEGER FROM range(200) t(i)")
    con.execute("INSERT INTO cities VALUES ('Beijing', 21000000, '北京'), ('Shanghai', 24000000, '上海'), "
                "('Shenzhen', 17000000, '广东')")
    con.execute("INSERT INTO complaints SELECT i, CASE WHEN i % 3 = 0 THEN 'noise' ELSE 'parking' END, "
                "'BROOKLYN', DATE '2024-01-01' + i::INTEGER, 'note ' || i FROM range(120) t(i)")
    return con


def fixture_cases() -> list[tuple[str, str, str]]:
    """(expect, reason fragment, sql) from the fixture file."""
    text = FIXTURES.read_text(encoding="utf-8")
    parts = re.split(r"^-- expect: (allow|deny)(.*)$", text, flags=re.M)
    return [(parts[i], parts[i + 1].strip(), parts[i + 2].strip()) for i in range(1, len(parts), 3)]


def test_there_are_at_least_150_cases() -> None:
    assert len(DENY) + len(ALLOW) + len(fixture_cases()) >= 150
    assert len({sql for sql, _ in DENY}) == len(DENY), "duplicate deny cases"


@pytest.mark.parametrize(("sql", "reason"), DENY, ids=[f"deny{n:03d}" for n in range(len(DENY))])
def test_denied(sql: str, reason: str) -> None:
    verdict = GUARD.check(sql, APPROVAL)
    assert not verdict.allowed, f"let through: {verdict.sql}"
    assert reason.lower() in verdict.reason.lower(), verdict.reason


@pytest.mark.parametrize("sql", ALLOW, ids=[f"allow{n:03d}" for n in range(len(ALLOW))])
def test_allowed_and_runs_limited(sql: str, database: duckdb.DuckDBPyConnection) -> None:
    verdict = GUARD.check(sql, APPROVAL)
    assert verdict.allowed, verdict.reason
    assert_safe_rewrite(verdict.sql)
    rows = database.execute(verdict.sql).fetchall()
    assert len(rows) <= CAP


@pytest.mark.parametrize(("expect", "reason", "sql"), fixture_cases(),
                         ids=[f"fixture{n:02d}" for n in range(len(fixture_cases()))])
def test_fixture_file(expect: str, reason: str, sql: str, database: duckdb.DuckDBPyConnection) -> None:
    verdict = GUARD.check(sql, APPROVAL)
    assert verdict.allowed == (expect == "allow"), verdict.reason
    if expect == "deny":
        assert reason.lower() in verdict.reason.lower(), verdict.reason
    else:
        assert_safe_rewrite(verdict.sql)
        database.execute(verdict.sql).fetchall()


def assert_safe_rewrite(sql: str) -> None:
    """The SQL that runs: one query, a LIMIT within the cap, no denied column, no comment."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    limit = tree.args.get("limit")
    assert limit is not None and int(limit.expression.this) <= CAP
    assert all(c.name.lower() != "ssn" for c in tree.find_all(exp.Column))
    assert not any(node.comments for node in tree.walk())


def test_star_expands_without_denied_column_and_marks_masked_output() -> None:
    query = GUARD.guard("SELECT * FROM people", APPROVAL)
    assert "ssn" not in query.sql
    assert query.masked_outputs == (3,)  # id, name, city, phone, birth


def test_limit_is_injected_or_clamped_but_smaller_limits_kept() -> None:
    assert GUARD.guard("SELECT name FROM people", APPROVAL).limit_applied
    assert GUARD.guard("SELECT name FROM people LIMIT 1000", APPROVAL).limit == CAP
    kept = GUARD.guard("SELECT name FROM people LIMIT 5", APPROVAL)
    assert kept.limit == 5 and not kept.limit_applied


def test_size_cap() -> None:
    long_sql = "SELECT name FROM people WHERE name IN (" + ", ".join(f"'{n}'" for n in range(5000)) + ")"
    verdict = SqlGuard(max_chars=1000).check(long_sql, APPROVAL)
    assert not verdict.allowed and "limit is 1,000" in verdict.reason


def test_role_without_tables_is_denied_everything() -> None:
    verdict = GUARD.check("SELECT name FROM people", Approval.of([]))
    assert not verdict.allowed and "not an approved table" in verdict.reason


def test_rejections_are_one_readable_line() -> None:
    for sql, _ in DENY:
        reason = GUARD.check(sql, APPROVAL).reason
        assert reason and "\n" not in reason and "Traceback" not in reason


def test_guarded_sql_transpiles_for_other_engines() -> None:
    from assistant.errors import GovDataError
    from assistant.sql.guard import transpile

    query = GUARD.guard("SELECT strftime(created, '%Y') AS y, count(*) FROM complaints GROUP BY 1", APPROVAL)
    assert "TO_CHAR(complaints.created, 'YYYY')" in transpile(query.sql, "postgres")
    with pytest.raises(GovDataError, match="klingon") as raised:
        transpile(query.sql, "klingon")
    assert error_text(raised.value).startswith("--to klingon")
