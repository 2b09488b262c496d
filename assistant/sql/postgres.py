"""PostgreSQL as the engine for approved tables: a loader (the steward's owner login) and a runner (a reader login).

The guard still decides on the DuckDB-dialect tree; the checked SQL is transpiled with sqlglot to PostgreSQL
before it runs. The runner is its own wall, like the DuckDB one, and holds without the guard:
- it logs in as a reader role that `provision_reader` leaves with USAGE on the approved schema and SELECT on
  the approved tables, nothing else (no CREATE anywhere, no other schema, not superuser, no server-file roles,
  so `pg_read_file`, `lo_import` and `COPY ... PROGRAM` fail even when sent directly);
- the role's default is `default_transaction_read_only=on`, and every query also runs in a READ ONLY
  transaction with `statement_timeout` and `work_mem` set for that transaction;
- at most `row_cap` rows are fetched, text is cut at `max_cell_chars`, masked outputs are replaced by `***`.

Tables are copied from the approved DuckDB file with COPY, all of them in one transaction: a failed load
changes nothing. Passwords come from an environment variable named in the settings, or from ~/.pgpass.
"""

import contextlib
import hashlib
import json
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import sqlglot
from sqlglot import exp

from assistant.sql.guard import DIALECT, GuardedQuery, withheld_list
from assistant.sql.runner import (
    CUT_MARK,
    MASK,
    PlanFacts,
    QueryFailed,
    RunnerLimits,
    SqlResult,
    check_plan,
    json_value,
    scrub_values,
)
from assistant.sql.walls import AccessProfile, Relation
from core.errors import GovDataError, first_line
from core.files import atomic_write, file_lock
from core.state.postgres import dsn_with_password, where
from ingest.tables import RegisteredTable, quote

if TYPE_CHECKING:
    from core.settings import SqlSettings
    from core.state.postgres import PostgresState

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_COPY_BATCH = 5000
_AS_TEXT = "text"  # postgres_type's fallback: the value is copied as DuckDB's text form (sqlglot writes "TEXT")


@dataclass(frozen=True)
class PostgresTarget:
    """Where approved tables live in PostgreSQL: the owner's DSN (loads), the reader's DSN (queries), the schema."""

    owner_dsn: str
    reader_dsn: str
    schema: str = "govdata"
    reader_role: str = "govdata_reader"
    logins: str = ""  # the file that keeps each profile login's password (under GOVDATA_HOME, mode 0600)
    shared: "PostgresState | None" = field(default=None, compare=False)  # or the shared state keeps them (issue 34)

    def __post_init__(self) -> None:
        for name, value in (("postgres_schema", self.schema), ("postgres_reader_role", self.reader_role)):
            if not _IDENTIFIER.match(value):
                raise GovDataError(f"{name} {value!r}: use lower-case letters, digits and _ (a plain identifier)")


@contextmanager
def connect(dsn: str, **options: Any) -> Iterator[Any]:
    """A psycopg connection, or one error line naming the server (without the password) when it is down."""
    import psycopg

    try:
        con = psycopg.connect(dsn, connect_timeout=5, **options)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GovDataError(f"PostgreSQL at {where(dsn)} is not reachable: {first}") from None
    try:
        yield con
    finally:
        con.close()


def postgres_type(duckdb_type: str) -> str:
    """The PostgreSQL column type for a DuckDB one (through sqlglot); unknown or nested types become text."""
    try:
        kind = exp.DataType.build(duckdb_type, dialect="duckdb")
    except (sqlglot.errors.ParseError, ValueError):
        return _AS_TEXT
    if kind.is_type(*exp.DataType.NESTED_TYPES) or kind.this == exp.DataType.Type.UNKNOWN:
        return _AS_TEXT
    return kind.sql(dialect="postgres")


def load_tables(target: PostgresTarget, database: Path, tables: list[RegisteredTable]) -> None:
    """Replace the approved schema's tables with `tables` from the DuckDB file, in one transaction, and grant
    the reader SELECT on exactly those. On any failure PostgreSQL keeps what it had."""
    source = duckdb.connect(str(database), read_only=True)
    try:
        with connect(target.owner_dsn) as con:
            try:
                with con.transaction(), con.cursor() as cur:
                    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(target.schema)}")
                    for table in tables:
                        _copy_table(cur, source, target.schema, table)
                    _drop_profile_schemas(cur, target)
                    provision_reader(cur, target, [t.name for t in tables])
            except GovDataError:
                raise
            except Exception as exc:  # psycopg errors: one line; the transaction was rolled back
                raise GovDataError(f"loading into PostgreSQL at {where(target.owner_dsn)} failed, nothing "
                                   f"changed: {first_line(exc)}") from None
    finally:
        source.close()


def _copy_table(cur: Any, source: duckdb.DuckDBPyConnection, schema: str, table: RegisteredTable) -> None:
    name = f"{quote(schema)}.{quote(table.name)}"
    kinds = [postgres_type(c.type) for c in table.columns]
    columns = ", ".join(f"{quote(c.name)} {kind}" for c, kind in zip(table.columns, kinds, strict=True))
    cur.execute(f"DROP TABLE IF EXISTS {name} CASCADE")  # with the profiles' views over it (made again on use)
    cur.execute(f"CREATE TABLE {name} ({columns})")
    listed = ", ".join(quote(c.name) for c in table.columns)
    selected = ", ".join(f"CAST({quote(c.name)} AS VARCHAR)" if kind == _AS_TEXT else quote(c.name)
                         for c, kind in zip(table.columns, kinds, strict=True))
    rows = source.execute(f"SELECT {selected} FROM {quote(table.name)}")
    with cur.copy(f"COPY {name} ({listed}) FROM STDIN") as copy:
        while batch := rows.fetchmany(_COPY_BATCH):
            for row in batch:
                copy.write_row(row)
    cur.execute(f"ANALYZE {name}")  # statistics for the planner: its estimates decide the plan check


def provision_reader(cur: Any, target: PostgresTarget, tables: list[str]) -> None:
    """The reader's walls: it may use the approved schema and SELECT the approved tables, nothing else; its
    sessions default to read-only. The role itself (LOGIN, password) is created by the DBA, not by us."""
    role, schema = quote(target.reader_role), quote(target.schema)
    cur.execute("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = %s", [target.reader_role])
    found = cur.fetchone()
    if found is None:
        raise GovDataError(f"the PostgreSQL reader role {target.reader_role} does not exist; create it with "
                           f"CREATE ROLE {target.reader_role} LOGIN PASSWORD '...' (docs/deploy.md)")
    if any(found):
        raise GovDataError(f"the PostgreSQL reader role {target.reader_role} may create roles, databases or is a "
                           "superuser; queries need a plain login role")
    cur.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    cur.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}")
    cur.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
    for table in tables:
        cur.execute(f"GRANT SELECT ON {schema}.{quote(table)} TO {role}")
    cur.execute(f"ALTER ROLE {role} SET default_transaction_read_only = on")
    cur.execute(f"ALTER ROLE {role} SET search_path = {schema}")


@dataclass(frozen=True)
class ProfileLogin:
    """The login of one access profile: it may read its own schema's views, nothing else."""

    role: str
    password: str
    schema: str


def profile_names(target: PostgresTarget, profile: AccessProfile) -> tuple[str, str]:
    """(login role, schema) of a profile: one per shape of what it may read, whatever the data's versions."""
    suffix = "_p" + hashlib.sha256(f"{target.schema}/{profile.shape}".encode()).hexdigest()[:12]
    return target.reader_role[: 63 - len(suffix)] + suffix, target.schema[: 63 - len(suffix)] + suffix


def _drop_profile_schemas(cur: Any, target: PostgresTarget) -> None:
    """A load replaces the approved tables, and the profiles' views with them: each is made again on its next use."""
    cur.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", [target.schema + "\\_p%"])
    for (schema,) in cur.fetchall():
        cur.execute(f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE")


def provision_profile(target: PostgresTarget, profile: AccessProfile) -> ProfileLogin:
    """Make (or make again) the profile's login and its schema of views, as the owner, in one transaction: a view
    per relation with only the columns the profile may read, masked ones as the mask, rows outside its filter
    left out (security_barrier, so no function in a query sees them first). The login gets USAGE on that schema
    and SELECT on those views only: no privilege on the approved tables, so a denied column or a whole row of
    them is refused by the server itself."""
    from psycopg import sql as pgsql

    role, schema = profile_names(target, profile)
    password = secrets.token_urlsafe(24)
    with connect(target.owner_dsn) as con:
        try:
            with con.transaction(), con.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [schema])
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
                verb = "ALTER" if cur.fetchone() else "CREATE"
                cur.execute(pgsql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT "
                                      "NOREPLICATION PASSWORD {}").format(pgsql.Identifier(role),
                                                                          pgsql.Literal(password)))
                cur.execute(f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE")
                cur.execute(f"CREATE SCHEMA {quote(schema)}")
                for relation in profile.relations:
                    cur.execute(_view_sql(target.schema, schema, relation))
                cur.execute(f"REVOKE ALL ON SCHEMA {quote(target.schema)} FROM {quote(role)}")
                cur.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {quote(target.schema)} FROM {quote(role)}")
                cur.execute(f"GRANT USAGE ON SCHEMA {quote(schema)} TO {quote(role)}")
                cur.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {quote(schema)} TO {quote(role)}")
                cur.execute(f"ALTER ROLE {quote(role)} SET default_transaction_read_only = on")
                cur.execute(f"ALTER ROLE {quote(role)} SET search_path = {quote(schema)}")
                cur.execute(pgsql.SQL("COMMENT ON SCHEMA {} IS {}").format(pgsql.Identifier(schema),
                                                                             pgsql.Literal(profile.key)))
        except GovDataError:
            raise
        except Exception as exc:  # psycopg errors: one line; the transaction was rolled back
            raise GovDataError(f"cannot set up the access profile's login in PostgreSQL at {where(target.owner_dsn)}"
                               f" (the owner login needs CREATEROLE; docs/deploy.md): {first_line(exc)}") from None
    return ProfileLogin(role, password, schema)


def _view_sql(base: str, schema: str, relation: Relation) -> str:
    columns = ", ".join(f"CASE WHEN {quote(c)} IS NULL THEN NULL ELSE '{MASK}'::text END AS {quote(c)}"
                        if c in relation.masked else quote(c) for c, _ in relation.columns) or "NULL AS no_columns"
    where = ""
    if relation.row_filter:
        where = " WHERE " + sqlglot.parse_one(relation.row_filter, read=DIALECT).sql(dialect="postgres")
    return (f"CREATE VIEW {quote(schema)}.{quote(relation.name)} WITH (security_barrier) AS "
            f"SELECT {columns} FROM {quote(base)}.{quote(relation.name)}{where}")


class ProfileLogins:
    """Each profile's login, kept in `target.logins` (mode 0600) once made, or in the shared state's
    `profile_logins` so every app server uses the same password (issue 34); made again when it is missing, its
    password is refused, or its schema was made for other data (a load drops the views). Making one holds a lock
    (the file's, or an advisory lock across hosts) and first looks whether another process just made it: two
    makers would otherwise keep changing each other's password."""

    def __init__(self, target: PostgresTarget) -> None:
        self.target = target
        self.file = Path(target.logins) if target.logins else None

    def get(self, profile: AccessProfile) -> ProfileLogin | None:
        if self.target.shared is not None:
            return self._shared_get(profile)
        if self.file is None or not self.file.is_file():
            return None
        try:
            known = json.loads(self.file.read_text(encoding="utf-8")).get(self._server(), {})
            entry = known.get(profile.shape)
            return ProfileLogin(entry["role"], entry["password"], entry["schema"]) if entry else None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def make(self, profile: AccessProfile, failed: ProfileLogin | None = None) -> ProfileLogin:
        """The profile's login made again, unless another process made a current one since `failed` was read."""
        with self._locked(profile):
            current = self.get(profile)
            if current is not None and current != failed and _current(self.target, current, profile):
                return current
            login = provision_profile(self.target, profile)
            self._save(profile, login)
        return login

    def _locked(self, profile: AccessProfile) -> contextlib.AbstractContextManager[None]:
        if self.target.shared is not None:
            return self.target.shared.locked(f"profile:{self._server()}/{profile.shape}")
        if self.file is None:
            return contextlib.nullcontext()
        return file_lock(self.file.with_name(self.file.name + ".lock"))

    def _save(self, profile: AccessProfile, login: ProfileLogin) -> None:
        if self.target.shared is not None:
            with self.target.shared.transaction() as con:
                con.execute("INSERT INTO profile_logins (key, role, password, schema) VALUES (%s, %s, %s, %s) "
                            "ON CONFLICT (key) DO UPDATE SET role = excluded.role, password = excluded.password, "
                            "schema = excluded.schema", (self._key(profile), login.role, login.password,
                                                         login.schema))
            return
        if self.file is None:
            return
        try:
            stored = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stored = {}
        stored.setdefault(self._server(), {})[profile.shape] = {
            "role": login.role, "password": login.password, "schema": login.schema}
        atomic_write(self.file, json.dumps(stored, indent=1))

    def _shared_get(self, profile: AccessProfile) -> ProfileLogin | None:
        assert self.target.shared is not None
        with self.target.shared.connection() as con:
            row = con.execute("SELECT role, password, schema FROM profile_logins WHERE key = %s",
                              (self._key(profile),)).fetchone()
        return ProfileLogin(*row) if row else None

    def _key(self, profile: AccessProfile) -> str:
        return f"{self._server()}/{profile.shape}"

    def _server(self) -> str:
        return f"{where(self.target.owner_dsn)}#{self.target.schema}"


def _current(target: PostgresTarget, login: ProfileLogin, profile: AccessProfile) -> bool:
    """Whether the login's schema was made for this profile's data (its comment is the profile's key)."""
    with connect(target.owner_dsn) as con:
        row = con.execute("SELECT obj_description(to_regnamespace(%s), 'pg_namespace')", [login.schema]).fetchone()
    return bool(row) and row[0] == profile.key


class _StaleProfile(Exception):
    """The profile's login or views are missing or were made for other data."""


def postgres_sql(duckdb_sql: str, server_version: int) -> str:
    """Guarded DuckDB SQL as PostgreSQL SQL for this server: sqlglot transpiles it; before PostgreSQL 16,
    which has no any_value(), an ANY_VALUE(x) becomes MIN(x) (also "some value of the group")."""
    tree = sqlglot.parse_one(duckdb_sql, read=DIALECT)
    if server_version < 160000:
        tree = tree.transform(lambda node: exp.Min(this=node.this) if isinstance(node, exp.AnyValue) else node)
    return tree.sql(dialect="postgres")


class PostgresRunner:
    """Runs GuardedQuery objects (DuckDB dialect, transpiled here) as the reader role."""

    def __init__(self, target: PostgresTarget, limits: RunnerLimits | None = None, work_mem: str = "64MB",
                 profile: "AccessProfile | None" = None) -> None:
        self.target = target
        self.profile = profile
        self.limits = limits or RunnerLimits()
        self.work_mem = work_mem

    def run(self, query: GuardedQuery) -> SqlResult:
        started = time.perf_counter()
        columns, rows, cut = self._as_profile(query)
        masked = sorted(set(query.masked_outputs))
        return SqlResult(
            sql=query.sql, columns=columns, rows=rows, row_count=len(rows),
            truncated=query.limit_applied and len(rows) >= query.limit,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1), tables=list(query.tables),
            masked_columns=[columns[i] for i in masked if i < len(columns)], cut_columns=[columns[i] for i in cut],
            withheld=withheld_list(query.withheld),
        )

    def run_raw(self, sql: str) -> SqlResult:
        """PostgreSQL SQL on the login's connection with no guard: only for tests that prove the walls alone (as
        the profile's own login when the runner has a profile)."""
        columns, rows, _ = self._as_profile(GuardedQuery(sql, ()), raw=True)
        return SqlResult(sql=sql, columns=columns, rows=rows, row_count=len(rows), truncated=False, elapsed_ms=0.0)

    def _as_profile(self, query: GuardedQuery, raw: bool = False) -> tuple[list[str], list[list[Any]], list[int]]:
        """Run as the profile's own login (the configured reader for a whole-database profile); a login that is
        missing, refused or stale is made again once, as the owner."""
        if self.profile is None or self.profile.full:
            dsn, schema, key = self.target.reader_dsn, self.target.schema, ""
            return self._fetch(query, dsn, schema, key, raw)
        logins = ProfileLogins(self.target)
        login = logins.get(self.profile)
        for attempt in range(2):
            if login is None or attempt:
                login = logins.make(self.profile, failed=login)
            dsn = _with_login(self.target.reader_dsn, login)
            try:
                return self._fetch(query, dsn, login.schema, self.profile.key, raw)
            except _StaleProfile:
                continue
        raise GovDataError("the access profile's PostgreSQL login could not be set up; see docs/deploy.md")

    def _fetch(self, query: GuardedQuery, dsn: str, schema: str, key: str,
               raw: bool) -> tuple[list[str], list[list[Any]], list[int]]:
        """Run in a READ ONLY transaction with this query's timeout and work_mem; guarded SQL is first checked on
        PostgreSQL's own plan (tables, table functions, estimated rows), like DuckDB's runner does."""
        import psycopg

        timeout_ms = int(self.limits.timeout_s * 1000)
        sql, masked, from_duckdb = query.sql, set(query.masked_outputs), not raw
        with _login_connection(dsn, stale=bool(key)) as con:
            if from_duckdb:  # guarded SQL, written for this server's version
                sql = postgres_sql(sql, con.info.server_version)
            try:
                with con.transaction(), con.cursor() as cur:
                    cur.execute("SET TRANSACTION READ ONLY")
                    cur.execute("SELECT set_config('statement_timeout', %s, true), set_config('work_mem', %s, true),"
                                " set_config('search_path', %s, true)",
                                [str(timeout_ms), self.work_mem, schema])
                    if key:
                        cur.execute("SELECT obj_description(to_regnamespace(%s), 'pg_namespace')", [schema])
                        if (cur.fetchone() or [None])[0] != key:
                            raise _StaleProfile()
                    if from_duckdb:
                        cur.execute("EXPLAIN (FORMAT JSON) " + sql)
                        check_plan(postgres_plan_facts(_plan_json(cur.fetchone())), query.tables,
                                   self.limits.max_estimated_rows)
                    cur.execute(sql)
                    if cur.description is None:
                        return [], [], []
                    columns = [str(d.name) for d in cur.description]
                    fetched = cur.fetchmany(self.limits.row_cap)
            except psycopg.errors.QueryCanceled:
                raise QueryFailed(f"the query ran longer than {self.limits.timeout_s:g} s and was stopped") from None
            except psycopg.Error as exc:
                raise QueryFailed(postgres_message(exc, isinstance(exc, psycopg.errors.DataError))) from None
        cut: set[int] = set()
        rows = [[self._cell(i, v, masked, cut) for i, v in enumerate(row)] for row in fetched]
        return columns, rows, sorted(cut)

    def _cell(self, index: int, value: Any, masked: set[int], cut: set[int]) -> Any:
        cap = self.limits.max_cell_chars
        if isinstance(value, str) and len(value) > cap:
            cut.add(index)
            value = value[:cap] + CUT_MARK
        return MASK if index in masked and value is not None else json_value(value)


def _with_login(dsn: str, login: ProfileLogin) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(dsn, user=login.role, password=login.password)


@contextmanager
def _login_connection(dsn: str, *, stale: bool) -> Iterator[Any]:
    """A connection as a login; for a profile's login, a refused password means it must be made again."""
    import psycopg

    try:
        con = psycopg.connect(dsn, connect_timeout=5, autocommit=True)
    except psycopg.OperationalError as exc:
        if stale and "authentication failed" in str(exc):
            raise _StaleProfile() from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GovDataError(f"PostgreSQL at {where(dsn)} is not reachable: {first}") from None
    try:
        yield con
    finally:
        con.close()


def _plan_json(row: Any) -> list[dict[str, Any]]:
    value = row[0] if row else []
    return json.loads(value) if isinstance(value, str) else list(value)


def postgres_plan_facts(plan: list[dict[str, Any]]) -> PlanFacts:
    """Walk PostgreSQL's JSON plan: each node's "Plan Rows" estimate (the planner estimates every join, cross
    products too), the relations it scans and the functions it scans, in the shape DuckDB's plan check reads."""
    tables: set[str] = set()
    functions: set[str] = set()
    peak = 0

    def walk(node: dict[str, Any]) -> None:
        nonlocal peak
        peak = max(peak, int(node.get("Plan Rows", 0)))
        if "Relation Name" in node:
            tables.add(str(node["Relation Name"]).lower())
        if "Function Name" in node:
            functions.add(str(node["Function Name"]).upper())
        for child in node.get("Plans") or []:
            walk(child)

    roots = [entry["Plan"] for entry in plan if "Plan" in entry]
    for root in roots:
        walk(root)
    return PlanFacts(peak, frozenset(tables), frozenset(functions), max((int(r.get("Plan Rows", 0)) for r in roots),
                                                                         default=0))


def postgres_message(exc: Exception, data_error: bool) -> str:
    """PostgreSQL's first line (its DETAIL and HINT lines name other columns and rows); for data errors (class
    22: bad casts, out of range) quoted values are hidden, since they may come from rows the role cannot read."""
    text = first_line(exc)
    return scrub_values(text) if data_error else text


def target_of(settings: "SqlSettings") -> PostgresTarget | None:
    """The PostgreSQL target GOVDATA_SQL__ENGINE=postgres selects (passwords from their variables), or None."""
    if settings.engine != "postgres":
        return None
    for variable, value in (("GOVDATA_SQL__POSTGRES_DSN", settings.postgres_dsn),
                         ("GOVDATA_SQL__POSTGRES_READER_DSN", settings.postgres_reader_dsn)):
        if not value:
            raise GovDataError(f"{variable} must be set when GOVDATA_SQL__ENGINE=postgres (docs/deploy.md)")
    return PostgresTarget(dsn_with_password(settings.postgres_dsn, settings.postgres_password_env),
                          dsn_with_password(settings.postgres_reader_dsn, settings.postgres_reader_password_env),
                          settings.postgres_schema, settings.postgres_reader_role)


def sync_tables(target: PostgresTarget, database: Path, tables: list[RegisteredTable], marker: Path) -> bool:
    """Load the registry's tables into PostgreSQL unless the marker says these versions are already there;
    True when it loaded. The marker is written only after the load committed, so a failed load is retried by
    the next `datasets add`."""
    wanted = {"server": where(target.owner_dsn), "schema": target.schema,
              "versions": {t.name: t.version for t in sorted(tables, key=lambda t: t.name)}}
    try:
        if json.loads(marker.read_text(encoding="utf-8")) == wanted:
            return False
    except (OSError, ValueError):
        pass
    load_tables(target, database, tables)
    atomic_write(marker, json.dumps(wanted, ensure_ascii=False, indent=1))
    return True


def check_postgres(target: PostgresTarget) -> None:
    """One connection as the reader before serving: a server that is down is one line naming it, now."""
    with connect(target.reader_dsn) as con:
        con.execute("SELECT 1")


def pull_tables(target: PostgresTarget, database: Path, tables: list[RegisteredTable], marker: Path) -> bool:
    """Shared state (issue 34): bring this host's DuckDB copy of the approved tables up to the registry, copying
    each table whose version changed from PostgreSQL (the value hints, the access profiles' files and the
    register's suggestions read it); True when it copied. One host's processes take turns; the marker, written
    after the copy committed, names the versions the copy holds."""
    wanted = {t.name: t.version for t in tables}
    if _pulled(marker) == wanted and database.is_file():
        return False
    with file_lock(marker.with_name(marker.name + ".lock")):
        have = _pulled(marker) if database.is_file() else {}
        if have == wanted:
            return False
        stale = [t for t in tables if have.get(t.name) != t.version]
        _copy_down(target, database, stale, sorted(set(have) - set(wanted)), marker.parent)
        atomic_write(marker, json.dumps(wanted, ensure_ascii=False, indent=1))
    return True


def _pulled(marker: Path) -> dict[str, str]:
    try:
        return dict(json.loads(marker.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return {}


def _copy_down(target: PostgresTarget, database: Path, tables: list[RegisteredTable], gone: list[str],
               folder: Path) -> None:
    """The tables from PostgreSQL into the DuckDB file through CSV, in one DuckDB transaction."""
    import tempfile

    database.parent.mkdir(parents=True, exist_ok=True)
    local = duckdb.connect(str(database))
    try:
        with connect(target.owner_dsn) as con, tempfile.TemporaryDirectory(dir=folder) as scratch:
            local.execute("BEGIN TRANSACTION")
            for table in tables:
                _copy_table_down(con, local, target.schema, table, Path(scratch) / "table.csv")
            for name in gone:
                local.execute(f"DROP TABLE IF EXISTS {quote(name)}")
            local.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            local.execute("ROLLBACK")
        raise
    finally:
        local.close()


def _copy_table_down(con: Any, local: duckdb.DuckDBPyConnection, schema: str, table: RegisteredTable,
                     scratch: Path) -> None:
    listed = ", ".join(quote(c.name) for c in table.columns)
    with open(scratch, "wb") as out, con.cursor() as cur, cur.copy(
            f"COPY (SELECT {listed} FROM {quote(schema)}.{quote(table.name)}) TO STDOUT (FORMAT csv)") as copy:
        for data in copy:
            out.write(data)
    kinds = {c.name: "VARCHAR" if postgres_type(c.type) == _AS_TEXT else c.type for c in table.columns}
    columns = ", ".join(f"{quote(name)} {kind}" for name, kind in kinds.items())
    spec = "{" + ", ".join(f"'{name.replace(chr(39), chr(39) * 2)}': '{kind}'" for name, kind in kinds.items()) + "}"
    local.execute(f"CREATE OR REPLACE TABLE {quote(table.name)} ({columns})")
    local.execute(f"INSERT INTO {quote(table.name)} SELECT * FROM read_csv(?, header=false, auto_detect=false, "
                  f"columns={spec}, allow_quoted_nulls=false, quote='\"', escape='\"')", [str(scratch)])
