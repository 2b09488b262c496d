"""PostgreSQL as the engine for approved tables, on a real server the session starts (tests/e2e/conftest.py).

The loader copies approved tables in one transaction; the runner answers guarded queries like DuckDB does; and
the reader login is a wall of its own: unguarded SQL sent straight to it cannot read files, run programs,
write, or see anything but the approved tables.
"""

import dataclasses
import shutil
from pathlib import Path

import psycopg
import pytest

from assistant.sql.approved import ApprovedTables
from assistant.sql.guard import Approval, GuardedQuery, SqlGuard
from assistant.sql.postgres import PostgresRunner, PostgresTarget, dsn_with_password, load_tables
from assistant.sql.runner import MASK, QueryFailed, QueryRunner, RunnerLimits
from core.errors import GovDataError
from tests.e2e.conftest import FIXTURES, PostgresServer, free_port, govdata

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def approved(tmp_path_factory: pytest.TempPathFactory,
             postgres: PostgresServer) -> tuple[ApprovedTables, PostgresTarget]:
    """The permits CSV and the pets SQLite file approved in DuckDB, then loaded into PostgreSQL."""
    root = tmp_path_factory.mktemp("pg")
    for name in ("permits.csv", "permits.describe.json", "pets_1.sqlite"):
        shutil.copy(FIXTURES / "sql" / name, root / name)
    registry = ApprovedTables(root / "sql")
    registry.add(root / "permits.csv", name="permits", describe=root / "permits.describe.json")
    registry.add(root / "pets_1.sqlite")
    target = PostgresTarget(dsn_with_password(postgres.owner_dsn, postgres.password_env), postgres.reader_dsn)
    with psycopg.connect(target.owner_dsn, autocommit=True) as con:  # something the reader must never see
        con.execute("CREATE TABLE IF NOT EXISTS public.secret (x text)")
        con.execute("INSERT INTO public.secret VALUES ('top secret')")
    load_tables(target, registry.database, registry.tables())
    return registry, target


def _approval(registry: ApprovedTables, masked: frozenset[str] = frozenset()) -> Approval:
    return Approval.of([dataclasses.replace(access, masked=masked if access.name == "permits" else frozenset())
                        for access in registry.approval(("public",), "allow").tables.values()])


QUESTIONS = [
    "SELECT count(*) AS n FROM permits",
    "SELECT kind, count(*) AS n, sum(fee) AS fees FROM permits GROUP BY kind ORDER BY kind",
    "SELECT strftime(issued, '%Y-%m') AS month, count(*) AS n FROM permits GROUP BY 1 ORDER BY 1",
    "SELECT 城市, max(fee) AS top FROM permits GROUP BY 城市 ORDER BY 城市",
    "SELECT p.pettype, count(*) AS n FROM pets AS p JOIN has_pet AS h ON h.petid = p.petid GROUP BY 1 ORDER BY 1",
    "SELECT stuid FROM student INTERSECT SELECT stuid FROM has_pet",
]


@pytest.mark.parametrize("sql", QUESTIONS)
def test_guarded_queries_give_the_same_rows_on_postgres_as_on_duckdb(
        sql: str, approved: tuple[ApprovedTables, PostgresTarget]) -> None:
    registry, target = approved
    query = SqlGuard().guard(sql, _approval(registry))
    on_duckdb = QueryRunner(registry.database).run(query)
    on_postgres = PostgresRunner(target).run(query)
    assert sorted(map(str, on_postgres.rows)) == sorted(map(str, on_duckdb.rows)) and on_postgres.row_count > 0
    assert on_postgres.sql == query.sql  # the receipt keeps the checked DuckDB-dialect SQL


def test_masked_outputs_and_the_row_cap_hold_on_postgres(approved: tuple[ApprovedTables, PostgresTarget]) -> None:
    registry, target = approved
    query = SqlGuard(row_cap=3).guard("SELECT permit_id, phone FROM permits ORDER BY permit_id",
                                      _approval(registry, frozenset({"phone"})))
    result = PostgresRunner(target, RunnerLimits(row_cap=3)).run(query)
    assert result.row_count == 3 and result.truncated
    assert {row[1] for row in result.rows} == {MASK} and result.masked_columns == ["phone"]


@pytest.mark.parametrize(("sql", "refusal"), [
    ("SELECT pg_read_file('/etc/passwd')", "permission denied"),
    ("SELECT pg_ls_dir('/')", "permission denied"),
    ("SELECT lo_import('/etc/passwd')", "permission denied"),
    ("COPY (SELECT 1) TO PROGRAM 'id'", "must be superuser"),
    ("COPY permits TO '/tmp/govdata-leak.csv'", "must be superuser"),
    ("SELECT * FROM public.secret", "permission denied"),
    ("SELECT rolpassword FROM pg_authid", "permission denied"),
    ("CREATE TABLE stolen AS SELECT * FROM permits", "read-only transaction"),
    ("INSERT INTO permits (permit_id) VALUES (99)", "read-only transaction"),
    ("DELETE FROM permits", "read-only transaction"),
    ("DROP TABLE permits", "read-only transaction"),
    ("CREATE TEMP TABLE t (x int)", "read-only transaction"),
    ("SET SESSION AUTHORIZATION govdata_owner", "permission denied"),
    ("CREATE EXTENSION dblink", "read-only transaction"),
])
def test_the_reader_login_refuses_on_its_own(sql: str, refusal: str,
                                             approved: tuple[ApprovedTables, PostgresTarget]) -> None:
    with pytest.raises(QueryFailed, match=refusal):
        PostgresRunner(approved[1]).run_raw(sql)


def test_the_readers_defaults_are_read_only_even_outside_the_runner(
        approved: tuple[ApprovedTables, PostgresTarget]) -> None:
    with psycopg.connect(approved[1].reader_dsn, autocommit=True) as con:
        assert con.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            con.execute("CREATE TABLE stolen (x int)")
        con.execute("SET default_transaction_read_only = off")  # a session may lift its own default...
        for table in ("govdata.stolen", "public.stolen"):  # ...and still has no right to create anything
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                con.execute(f"CREATE TABLE {table} (x int)")


def test_postgres_own_plan_is_checked_before_a_guarded_query_runs(
        approved: tuple[ApprovedTables, PostgresTarget]) -> None:
    """The twin of DuckDB's plan check, on PostgreSQL's EXPLAIN: estimated rows at any step, the tables the plan
    reads, and table functions, each refused before the query runs."""
    registry, target = approved
    product = SqlGuard().guard("SELECT count(*) AS n FROM permits a, permits b, permits c", _approval(registry))
    with pytest.raises(QueryFailed, match=r"would combine about .* rows at one step \(the limit is 100\)"):
        PostgresRunner(target, RunnerLimits(max_estimated_rows=100)).run(product)
    assert PostgresRunner(target).run(product).rows == [[125]]  # 5 x 5 x 5; the default limit lets it run
    with pytest.raises(QueryFailed, match="reads a table this query was not approved for"):
        PostgresRunner(target).run(GuardedQuery("SELECT count(*) FROM student", ("permits",)))
    with pytest.raises(QueryFailed, match=r"runs table function generate_series\(\)"):
        PostgresRunner(target).run(GuardedQuery("SELECT count(*) FROM generate_series(1, 10)", ()))


def test_a_slow_query_is_stopped_at_the_timeout(approved: tuple[ApprovedTables, PostgresTarget]) -> None:
    runner = PostgresRunner(approved[1], RunnerLimits(timeout_s=0.5))
    with pytest.raises(QueryFailed, match="longer than 0.5 s"):
        runner.run_raw("SELECT pg_sleep(5)")
    assert runner.run_raw("SELECT 1 AS one").rows == [[1]]


def test_a_failed_load_changes_nothing(approved: tuple[ApprovedTables, PostgresTarget]) -> None:
    registry, target = approved
    tables = registry.tables()
    broken = dataclasses.replace(tables[0], name="no_such_table_in_duckdb")
    with pytest.raises(GovDataError, match="nothing changed"):
        load_tables(target, registry.database, [*tables, broken])
    query = SqlGuard().guard("SELECT count(*) AS n FROM permits", _approval(registry))
    assert PostgresRunner(target).run(query).rows == QueryRunner(registry.database).run(query).rows


def test_a_server_that_is_down_is_named_without_its_password(tmp_path: Path) -> None:
    port = free_port()
    target = PostgresTarget(f"postgresql://govdata_owner:hunter2@127.0.0.1:{port}/postgres",
                            f"postgresql://reader:hunter2@127.0.0.1:{port}/postgres")
    with pytest.raises(GovDataError) as raised:
        PostgresRunner(target).run_raw("SELECT 1")
    assert f"postgresql://127.0.0.1:{port}/postgres is not reachable" in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_a_reader_role_that_could_do_more_is_refused(approved: tuple[ApprovedTables, PostgresTarget]) -> None:
    registry, target = approved
    with psycopg.connect(target.owner_dsn, autocommit=True) as con:
        con.execute("DROP ROLE IF EXISTS too_mighty")
        con.execute("CREATE ROLE too_mighty LOGIN CREATEROLE")
    mighty = dataclasses.replace(target, reader_role="too_mighty")
    with pytest.raises(GovDataError, match="plain login role"):
        load_tables(mighty, registry.database, registry.tables())


def test_the_cli_queries_postgres_when_the_settings_say_so(tmp_path: Path, postgres: PostgresServer) -> None:
    """`datasets add` mirrors the registry into PostgreSQL and `sql run` answers from there (emptying the
    PostgreSQL copy empties the answer), with the role's policy still applied by the guard."""
    for name in ("permits.csv", "permits.describe.json"):
        shutil.copy(FIXTURES / "sql" / name, tmp_path / name)
    env = {"GOVDATA_SQL__ENGINE": "postgres", "GOVDATA_SQL__POSTGRES_DSN": postgres.owner_dsn,
           "GOVDATA_SQL__POSTGRES_PASSWORD_ENV": postgres.password_env,
           "GOVDATA_SQL__POSTGRES_READER_DSN": postgres.reader_dsn, "GOVDATA_SQL__POSTGRES_SCHEMA": "cli_tables"}
    home = tmp_path / "home"
    added = govdata(home, "datasets", "add", str(tmp_path / "permits.csv"), "--name", "permits",
                    "--describe", str(tmp_path / "permits.describe.json"), env=env)
    assert added.code == 0, added.stderr
    sql = "SELECT kind, count(*) AS n FROM permits GROUP BY kind ORDER BY kind"
    on_postgres = govdata(home, "sql", "run", sql, "--role", "citizen", "--json", env=env)
    on_duckdb = govdata(home, "sql", "run", sql, "--role", "citizen", "--json")
    assert on_postgres.code == 0, on_postgres.stderr
    assert on_postgres.json()["rows"] == on_duckdb.json()["rows"] != []  # type: ignore[index]
    refused = govdata(home, "sql", "run", "SELECT phone FROM permits", "--role", "citizen", env=env)
    assert refused.code == 1 and "phone is not available" in refused.stderr
    with psycopg.connect(dsn_with_password(postgres.owner_dsn, postgres.password_env), autocommit=True) as con:
        con.execute("DELETE FROM cli_tables.permits")
    emptied = govdata(home, "sql", "run", sql, "--role", "citizen", "--json", env=env)
    assert emptied.json()["rows"] == [] and on_duckdb.json()["rows"]  # type: ignore[index]
    down = govdata(home, "sql", "run", sql, "--json", env={**env, "GOVDATA_SQL__POSTGRES_READER_DSN":
                                                            f"postgresql://r:pw@127.0.0.1:{free_port()}/postgres"})
    assert down.code == 1 and "is not reachable" in down.stderr and "Traceback" not in down.stderr
