"""Issue 26 on PostgreSQL: one login per access profile, whose schema holds views of exactly what the profile may
read. SQL sent straight to each login (no guard) cannot reach a denied column, a raw masked value or the approved
tables; and the generated queries of the unit fuzz test answer the same on two registries that differ only in
their sensitive values."""

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from assistant.policy.grants import Grant
from assistant.sql.postgres import PostgresRunner, ProfileLogins
from assistant.sql.runner import QueryFailed
from assistant.sql.service import SqlService
from core.errors import GovDataError
from core.settings import Settings, SqlSettings
from tests.e2e.conftest import PostgresServer
from tests.unit.test_sql_walls_fuzz import (
    FIXED,
    SENSITIVE,
    _write_tables,
    generate,
    inconclusive,
    leaked_values,
    outcome,
)

pytestmark = pytest.mark.e2e

CASES = 400


def _service(root: Path, variant: str, postgres: PostgresServer) -> SqlService:
    _write_tables(root / "data", variant)
    sql = SqlSettings(engine="postgres", postgres_dsn=postgres.owner_dsn, postgres_password_env=postgres.password_env,
                      postgres_reader_dsn=postgres.reader_dsn, postgres_schema=f"walls_{variant}")
    service = SqlService(Settings(home=root / "home", sql=sql), lambda: None,  # type: ignore[arg-type,return-value]
                         lambda texts: None, lambda paths: None)  # type: ignore[arg-type,return-value]
    data = root / "data"
    service.add(data / "people.csv", name="people", access_level=None, describe=data / "people.describe.json")
    service.add(data / "contacts.csv", name="contacts", access_level="restricted public",
                describe=data / "contacts.describe.json")
    return service


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory,
          postgres: PostgresServer) -> Iterator[tuple[SqlService, SqlService]]:
    root = tmp_path_factory.mktemp("pg-walls")
    yield _service(root / "a", "a", postgres), _service(root / "b", "b", postgres)


def _login(service: SqlService, role: str) -> tuple[PostgresRunner, str]:
    """The runner of the role's profile (its login made on first use) and that login's DSN."""
    context = service.role_context(role)
    assert service.postgres is not None and context.profile is not None
    runner = PostgresRunner(service.postgres, service.limits(), profile=context.profile)
    runner.run_raw("SELECT 1")
    login = ProfileLogins(service.postgres).get(context.profile)
    assert login is not None
    return runner, psycopg.conninfo.make_conninfo(service.postgres.reader_dsn, user=login.role,
                                                   password=login.password)


@pytest.mark.parametrize(("sql", "refusal"), [
    ("SELECT ssn FROM people", 'column "ssn" does not exist'),
    ("SELECT name FROM people", 'column "name" does not exist'),
    ("SELECT ssn FROM walls_a.people", "permission denied"),
    ("SELECT * FROM walls_a.people", "permission denied"),
    ("SELECT * FROM contacts", 'relation "contacts" does not exist'),
    ("SELECT phone FROM walls_a.contacts", "permission denied"),
    ("SET ROLE govdata_reader", "permission denied"),
    ("SELECT set_config('role', 'govdata_reader', false)", "permission denied"),
])
def test_the_citizens_login_refuses_on_its_own(sql: str, refusal: str,
                                               twins: tuple[SqlService, SqlService]) -> None:
    runner, _ = _login(twins[0], "citizen")
    with pytest.raises(QueryFailed, match=refusal):
        runner.run_raw(sql)


def test_a_whole_row_holds_only_what_the_profile_may_read(twins: tuple[SqlService, SqlService]) -> None:
    citizen, dsn = _login(twins[0], "citizen")
    rows = citizen.run_raw("SELECT to_json(p) AS r FROM people p ORDER BY id").rows
    assert rows and all(set(json.loads(json.dumps(r[0]))) == {"id", "city", "age", "joined"} for r in rows)
    with psycopg.connect(dsn, autocommit=True) as con:  # straight to the server, outside any runner
        assert con.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute("SELECT count(*) FROM walls_a.people")
    servant, _ = _login(twins[0], "civil_servant")
    phones = servant.run_raw("SELECT phone, to_json(c)::text AS r FROM contacts c ORDER BY id").rows
    assert {p for p, _ in phones} <= {"***", None} and not leaked_values(phones)
    assert servant.run_raw("SELECT count(*) FROM contacts WHERE phone LIKE '138%'").rows == [[0]]


def test_a_changed_profile_gets_its_views_made_again(twins: tuple[SqlService, SqlService]) -> None:
    """A load drops the profiles' views (CASCADE); the next query as the profile makes them again."""
    service = twins[0]
    first = service.run("SELECT count(*) AS n FROM people", role="citizen").rows
    assert service.postgres is not None
    with psycopg.connect(service.postgres.owner_dsn, autocommit=True) as con:
        con.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'walls\\_a\\_p%'")
        con.execute("DROP SCHEMA IF EXISTS " + ", ".join(
            r[0] for r in con.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'walls\\_a\\_p%'"))
            + " CASCADE")
    assert service.run("SELECT count(*) AS n FROM people", role="citizen").rows == first == [[8]]


@pytest.mark.parametrize("role", ["citizen", "civil_servant"])
def test_no_sensitive_value_reaches_any_output_on_postgres(role: str, twins: tuple[SqlService, SqlService]) -> None:
    first, second = twins
    differing, leaking = [], []
    for sql in FIXED + generate(CASES, seed=26):
        one, other = outcome(first, sql, role), outcome(second, sql, role)
        if one != other and not inconclusive(one, other) and outcome(first, sql, role) == one:
            differing.append(f"{sql}\n    a: {str(one)[:160]}\n    b: {str(other)[:160]}")
        if leaked_values([one, other]):
            leaking.append(sql)
    assert not leaking, "\n".join(leaking[:10])
    assert not differing, "\n".join(differing[:10])
    assert SENSITIVE["a"]["ssn"][0] in str(outcome(first, "SELECT ssn FROM people", "data_steward"))


# ---- issue 33: a grant's columns and rows are the login's views, not only the guard's rules ----

def _grant() -> Grant:
    return Grant("g0001", "transit-co", "dataset", "contacts", "fuzz", date.today().isoformat(),
                 (date.today() + timedelta(days=5)).isoformat(), "x", ("id", "district"), rows="district = 'd1'")


def _grantee_login(service: SqlService) -> tuple[PostgresRunner, str]:
    context = service.role_context("operator", (_grant(),))
    assert service.postgres is not None and context.profile is not None
    runner = PostgresRunner(service.postgres, service.limits(), profile=context.profile)
    runner.run_raw("SELECT 1")
    login = ProfileLogins(service.postgres).get(context.profile)
    assert login is not None
    return runner, psycopg.conninfo.make_conninfo(service.postgres.reader_dsn, user=login.role,
                                                   password=login.password)


def test_a_grantees_login_holds_only_the_granted_columns_and_rows(twins: tuple[SqlService, SqlService]) -> None:
    runner, dsn = _grantee_login(twins[0])
    result = runner.run_raw("SELECT * FROM contacts ORDER BY id")
    assert result.columns == ["id", "district"] and {r[1] for r in result.rows} == {"d1"} and len(result.rows) == 3
    with psycopg.connect(dsn, autocommit=True) as con:  # straight to the server, outside any runner
        with pytest.raises(psycopg.errors.UndefinedColumn):
            con.execute("SELECT phone FROM contacts")
    with psycopg.connect(dsn, autocommit=True) as con:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            con.execute("SELECT count(*) FROM walls_a.contacts")
    with psycopg.connect(dsn, autocommit=True) as con:
        assert con.execute("SELECT count(*) FROM contacts WHERE district <> 'd1'").fetchone() == (0,)


def test_no_ungranted_value_reaches_a_grantee_on_postgres(twins: tuple[SqlService, SqlService]) -> None:
    first, second = twins

    def run(service: SqlService, sql: str) -> tuple[str, object]:
        try:
            found = service.run(sql, role="operator", grants=(_grant(),))
        except GovDataError as refused:
            return "refused", str(refused)
        return "rows", [found.columns, sorted(json.dumps(r, default=str) for r in found.rows)]

    differing, leaking = [], []
    for sql in FIXED + generate(CASES // 2, seed=33):
        one, other = run(first, sql), run(second, sql)
        if one != other and not inconclusive(one, other) and run(first, sql) == one:
            differing.append(f"{sql}\n    a: {str(one)[:160]}\n    b: {str(other)[:160]}")
        if leaked_values([one, other]) or any(d in str([one, other]) for d in ("'d2'", "'d3'", '"d2"', '"d3"')):
            leaking.append(sql)
    assert not leaking, "\n".join(leaking[:10])
    assert not differing, "\n".join(differing[:10])
