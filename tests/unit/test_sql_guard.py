"""The SQL guard, driven by fixture files of SQL -> verdict, one per rule module (sqlglot's optimizer style):
tests/fixtures/sql/guard/RULE.sql holds the cases that rule refuses, allow.sql the queries every rule lets
through. Allowed queries are also executed on a real DuckDB to prove the rewritten SQL is valid and limited."""

import re
import traceback
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from assistant.cli.common import error_text
from assistant.sql.guard import Approval, SqlGuard, SqlRejected, TableAccess

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sql" / "guard"
RULES = ("text", "parse", "statements", "bounds", "sources", "columns", "limits", "methods")
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


def read_cases(path: Path) -> list[tuple[str, str, str]]:
    """(expect, reason fragment, sql) from one fixture file; \\uXXXX in the SQL stands for that character."""
    parts = re.split(r"^-- expect: (allow|deny)(.*)$", path.read_text(encoding="utf-8"), flags=re.M)
    return [(parts[i], parts[i + 1].strip(), unescape(parts[i + 2].strip())) for i in range(1, len(parts), 3)]


def unescape(sql: str) -> str:
    return re.sub(r"\\u([0-9a-f]{4})", lambda m: chr(int(m.group(1), 16)), sql)


DENY = [(rule, sql, reason) for rule in RULES for _, reason, sql in read_cases(FIXTURES / f"{rule}.sql")]
ALLOW = [sql for _, _, sql in read_cases(FIXTURES / "allow.sql")]


def refusing_rule(sql: str) -> str:
    """The rule module whose check refused `sql` (the step of SqlGuard._guard that raised)."""
    try:
        GUARD.guard(sql, APPROVAL)
    except SqlRejected as rejected:
        frames = traceback.extract_tb(rejected.__traceback__)
        steps = [i for i, frame in enumerate(frames) if frame.name == "_guard"]
        return Path(frames[steps[0] + 1].filename).stem if steps and steps[0] + 1 < len(frames) else "guard"
    return "none"


def test_fixture_files_hold_only_their_kind_and_enough_cases() -> None:
    assert sorted(path.stem for path in FIXTURES.glob("*.sql")) == sorted((*RULES, "allow"))
    for rule in RULES:
        assert {expect for expect, _, _ in read_cases(FIXTURES / f"{rule}.sql")} == {"deny"}, rule
    assert {expect for expect, _, _ in read_cases(FIXTURES / "allow.sql")} == {"allow"}
    assert len(DENY) + len(ALLOW) >= 350
    assert len({sql for _, sql, _ in DENY}) == len(DENY), "duplicate deny cases"


@pytest.mark.parametrize(("rule", "sql", "reason"), DENY,
                         ids=[f"{rule}{n:03d}" for n, (rule, _, _) in enumerate(DENY)])
def test_denied_by_its_rule(rule: str, sql: str, reason: str) -> None:
    verdict = GUARD.check(sql, APPROVAL)
    assert not verdict.allowed, f"let through: {verdict.sql}"
    assert reason.lower() in verdict.reason.lower(), verdict.reason
    assert refusing_rule(sql) == rule, f"refused by another rule: {verdict.reason}"


@pytest.mark.parametrize("sql", ALLOW, ids=[f"allow{n:03d}" for n in range(len(ALLOW))])
def test_allowed_and_runs_limited(sql: str, database: duckdb.DuckDBPyConnection) -> None:
    verdict = GUARD.check(sql, APPROVAL)
    assert verdict.allowed, verdict.reason
    assert_safe_rewrite(verdict.sql)
    rows = database.execute(verdict.sql).fetchall()
    assert len(rows) <= CAP


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
    for _, sql, _ in DENY:
        reason = GUARD.check(sql, APPROVAL).reason
        assert reason and "\n" not in reason and "Traceback" not in reason


def test_guarded_sql_transpiles_for_other_engines() -> None:
    from assistant.sql.guard import transpile
    from core.errors import GovDataError

    query = GUARD.guard("SELECT strftime(created, '%Y') AS y, count(*) FROM complaints GROUP BY 1", APPROVAL)
    assert "TO_CHAR(complaints.created, 'YYYY')" in transpile(query.sql, "postgres")
    with pytest.raises(GovDataError, match="klingon") as raised:
        transpile(query.sql, "klingon")
    assert error_text(raised.value).startswith("--to klingon")


def test_the_regenerated_sql_must_read_back_as_itself() -> None:
    """The round trip on its own (the unknown-type rule refuses the known case first): a text that regenerates
    differently is refused."""
    from assistant.sql.guard.parse import check_round_trip

    check_round_trip("SELECT 1 AS x")
    with pytest.raises(SqlRejected, match="does not read back as itself"):
        check_round_trip("select 1 AS x")
