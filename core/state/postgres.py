"""The PostgreSQL side of shared state (issue 34): one schema, pooled connections, versioned migrations.

Every connection sets `search_path` to the state's schema, so the stores write plain table names. Connections are
kept per process in a small pool (a login costs a SCRAM exchange, ~10 ms, on every call otherwise); a broken one
is dropped, and a forked child starts a pool of its own. The schema is created and migrated on first use in each
process, under a transaction-level advisory lock, so many app servers starting at once apply each migration once.
"""

import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.errors import GovDataError
from core.state.migrations import MIGRATIONS, Migration

_MIGRATION_LOCK = 0x60DA7A34  # the advisory lock key that serialises migrations across processes and hosts
_MAX_IDLE = 8


def dsn_with_password(dsn: str, password_env: str) -> str:
    """The DSN with the password read from the environment variable `password_env` (none named: ~/.pgpass)."""
    if not password_env:
        return dsn
    password = os.environ.get(password_env)
    if not password:
        raise GovDataError(f"the PostgreSQL password variable {password_env} is not set")
    from psycopg.conninfo import make_conninfo

    return make_conninfo(dsn, password=password)


def where(dsn: str) -> str:
    """host:port/db of a DSN, never its password (for error lines)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(dsn)
    except Exception:  # noqa: BLE001 - a malformed DSN is reported as such
        return "(malformed DSN)"
    return f"postgresql://{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


class PostgresState:
    """The shared state of one deployment: a schema in one PostgreSQL database, reached through the owner login."""

    def __init__(self, dsn: str, schema: str) -> None:
        self.dsn = dsn
        self.schema = schema
        self._idle: list[Any] = []
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PostgresState({where(self.dsn)}, schema={self.schema})"

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A pooled connection in autocommit mode (the caller opens `with con.transaction():` where it needs one);
        it goes back to the pool unless it broke or is inside a transaction."""
        con = self._take()
        try:
            yield con
        except BaseException:
            self._drop(con)
            raise
        self._give_back(con)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A pooled connection inside one transaction: committed when the block ends, rolled back on an error."""
        with self.connection() as con, con.transaction():
            yield con

    def _take(self) -> Any:
        with self._lock:
            if self._pid != os.getpid():  # a forked child must not share its parent's sockets
                self._idle, self._pid = [], os.getpid()
            while self._idle:
                con = self._idle.pop()
                if not con.closed and not con.broken:
                    return con
        return self._open()

    def _give_back(self, con: Any) -> None:
        from psycopg.pq import TransactionStatus

        if con.closed or con.broken or con.info.transaction_status != TransactionStatus.IDLE:
            self._drop(con)
            return
        with self._lock:
            if self._pid == os.getpid() and len(self._idle) < _MAX_IDLE:
                self._idle.append(con)
                return
        con.close()

    @staticmethod
    def _drop(con: Any) -> None:
        try:
            con.close()
        except Exception:  # noqa: BLE001,S110 - a broken connection may fail to close; it is gone either way
            pass

    def _open(self) -> Any:
        import psycopg

        try:
            return psycopg.connect(self.dsn, autocommit=True, connect_timeout=5,
                                   options=f"-c search_path={self.schema}")
        except psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise GovDataError(f"state: PostgreSQL at {where(self.dsn)} is not reachable: {first}") from None

    @contextmanager
    def locked(self, name: str) -> Iterator[None]:
        """Hold a session-level advisory lock named `name` (one per deployment and schema) while the block runs:
        every process on every host that asks for the same name waits. The lock goes with its connection, so a
        process that dies releases it."""
        key = zlib.crc32(f"{self.schema}:{name}".encode())
        with self.connection() as con:
            con.execute("SELECT pg_advisory_lock(%s)", (key,))
            try:
                yield
            finally:
                con.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for con in idle:
            self._drop(con)

    def migrate(self) -> list[int]:
        """Create the schema and apply the migrations it lacks, each in its own transaction with its row in
        `schema_migrations`; returns the versions applied now (none when the schema is current)."""
        applied: list[int] = []
        with self.transaction() as con:
            con.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            con.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                        "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            done = {row[0] for row in con.execute("SELECT version FROM schema_migrations")}
            for migration in MIGRATIONS:
                if migration.version not in done:
                    _apply(con, migration)
                    applied.append(migration.version)
        return applied

    def versions(self) -> list[int]:
        """The migrations this schema has, oldest first."""
        with self.connection() as con:
            return [row[0] for row in con.execute("SELECT version FROM schema_migrations ORDER BY version")]


def _apply(con: Any, migration: Migration) -> None:
    with con.transaction():
        con.execute(migration.sql)
        con.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name))


_opened: dict[tuple[str, str], PostgresState] = {}
_opening = threading.Lock()


def open_state(dsn: str, password_env: str, schema: str) -> PostgresState:
    """The state at this DSN and schema, one per process, migrated on first use."""
    key = (dsn_with_password(dsn, password_env), schema)
    with _opening:
        state = _opened.get(key)
        if state is None:
            state = PostgresState(*key)
            state.migrate()
            _opened[key] = state
        return state
