"""Where the audit chain's rows are kept: a SQLite file under GOVDATA_HOME (embedded) or the shared PostgreSQL
state (issue 34). Both keep the same seven columns; the chain itself (hashes, head, witnesses) is `audit.py`'s.

A store appends under its own serialisation: SQLite's `BEGIN IMMEDIATE` behind the caller's lock file; PostgreSQL's
row lock on the one `audit_head` row (`SELECT ... FOR UPDATE`), which every process on every host takes before it
reads the last id and hash, so appends from many hosts form one chain with no fork and no lost receipt. The head
row is updated in the same transaction (and signed when an audit key is set).
"""

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from core.state.migrations import GENESIS
from core.state.postgres import PostgresState

Row = tuple[int, str, str, str, str, str, str]  # id, time, user, action, body, prev_hash, hash
Fill = Callable[[int, str], Row]  # (last id, last hash) -> the new row
Head = Callable[[int, str], dict[str, Any]]  # (id, hash) -> the head as the head file keeps it

_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS receipts (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS receipts_user ON receipts(user);
CREATE INDEX IF NOT EXISTS receipts_time ON receipts(time);
CREATE TRIGGER IF NOT EXISTS receipts_no_update BEFORE UPDATE ON receipts
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS receipts_no_delete BEFORE DELETE ON receipts
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


class ReceiptRows(Protocol):
    """The rows of one chain. `mark` is the store's query placeholder; `shared` says other hosts append too."""

    mark: str
    shared: bool

    def append(self, fill: Fill, head: Head) -> Row: ...

    def select(self, where: str = "", params: tuple[Any, ...] = (), order: str = "ASC",
               limit: int | None = None) -> list[tuple[Any, ...]]: ...

    def columns(self) -> list[Row]: ...

    def body_field(self, key: str) -> str: ...

    def stored_head(self) -> dict[str, Any] | None: ...

    def protected_since(self, user: str, since: str) -> int: ...


class SqliteRows:
    """audit.sqlite under the audit folder; appends are serialised by the caller's lock file."""

    mark = "?"
    shared = False

    def __init__(self, database: Path) -> None:
        self.database = database

    def _connect(self) -> sqlite3.Connection:
        self.database.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.database, timeout=60, isolation_level=None)
        connection.execute("PRAGMA busy_timeout = 60000")
        connection.executescript(_SQLITE_SCHEMA)
        return connection

    def append(self, fill: Fill, head: Head) -> Row:
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            last = connection.execute("SELECT id, hash FROM receipts ORDER BY id DESC LIMIT 1").fetchone()
            row = fill(*(last if last else (0, GENESIS)))
            connection.execute("INSERT INTO receipts (id, time, user, action, body, prev_hash, hash) "
                               "VALUES (?,?,?,?,?,?,?)", row)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()
        return row

    def select(self, where: str = "", params: tuple[Any, ...] = (), order: str = "ASC",
               limit: int | None = None) -> list[tuple[Any, ...]]:
        if not self.database.is_file():
            return []
        connection = self._connect()
        try:
            return connection.execute(_select_sql(where, order, limit), params).fetchall()
        finally:
            connection.close()

    def columns(self) -> list[Row]:
        if not self.database.is_file():
            return []
        connection = self._connect()
        try:
            return connection.execute(
                "SELECT id, time, user, action, body, prev_hash, hash FROM receipts ORDER BY id").fetchall()
        finally:
            connection.close()

    def body_field(self, key: str) -> str:
        return f"json_extract(body, '$.{key}')"

    def stored_head(self) -> dict[str, Any] | None:
        return None  # the head file is the head

    def protected_since(self, user: str, since: str) -> int:
        if not self.database.is_file():
            return 0
        connection = self._connect()
        try:
            row = connection.execute("SELECT count(*) FROM receipts WHERE user = ? AND time >= ? AND "
                                     "json_extract(body, '$.sdc.table') IS NOT NULL", (user, since)).fetchone()
        finally:
            connection.close()
        return int(row[0]) if row else 0


class PostgresRows:
    """`receipts` and `audit_head` in the shared state; the head row's lock serialises every host's appends."""

    mark = "%s"
    shared = True

    def __init__(self, state: PostgresState) -> None:
        self.state = state

    def append(self, fill: Fill, head: Head) -> Row:
        with self.state.transaction() as con:
            last = con.execute("SELECT id, hash FROM audit_head WHERE one FOR UPDATE").fetchone()
            row = fill(int(last[0]), str(last[1]))
            con.execute("INSERT INTO receipts (id, time, who, action, body, prev_hash, hash) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s)", row)
            signed = head(row[0], row[6])
            con.execute("UPDATE audit_head SET id = %s, hash = %s, signature = %s WHERE one",
                        (row[0], row[6], signed.get("signature", "")))
        return row

    def select(self, where: str = "", params: tuple[Any, ...] = (), order: str = "ASC",
               limit: int | None = None) -> list[tuple[Any, ...]]:
        with self.state.connection() as con:
            return list(con.execute(_select_sql(where, order, limit), params).fetchall())

    def columns(self) -> list[Row]:
        with self.state.connection() as con:
            return list(con.execute(
                "SELECT id, time, who, action, body, prev_hash, hash FROM receipts ORDER BY id").fetchall())

    def body_field(self, key: str) -> str:
        return f"((body::jsonb ->> '{key}') COLLATE \"C\")"  # ISO times compare as the embedded log's do

    def stored_head(self) -> dict[str, Any] | None:
        with self.state.connection() as con:
            row = con.execute("SELECT id, hash, signature FROM audit_head WHERE one").fetchone()
        return {"id": int(row[0]), "hash": str(row[1]), "signature": str(row[2])} if row else None

    def protected_since(self, user: str, since: str) -> int:
        with self.state.connection() as con:  # times compare in the C collation, as the embedded log's do
            row = con.execute("SELECT count(*) FROM receipts WHERE who = %s AND time COLLATE \"C\" >= %s AND "
                              "(body::jsonb -> 'sdc' ->> 'table') IS NOT NULL", (user, since)).fetchone()
        return int(row[0]) if row else 0

    def copy_in(self, rows: list[Row], head: dict[str, Any]) -> int:
        """Rows of an embedded chain appended as they are (`state migrate`): only ids after the stored head, each
        following it, in one transaction with the head row; returns how many were added."""
        with self.state.transaction() as con:
            last_id, last_hash = con.execute("SELECT id, hash FROM audit_head WHERE one FOR UPDATE").fetchone()
            fresh = [r for r in rows if r[0] > last_id]
            if fresh and (fresh[0][0] != last_id + 1 or fresh[0][5] != last_hash):
                raise ValueError(f"the shared chain ends at entry {last_id}, which the embedded chain does not "
                                 "continue; it has receipts of its own")
            with con.cursor() as cur:
                cur.executemany("INSERT INTO receipts (id, time, who, action, body, prev_hash, hash) "
                                "VALUES (%s, %s, %s, %s, %s, %s, %s)", fresh)
            if fresh:
                con.execute("UPDATE audit_head SET id = %s, hash = %s, signature = %s WHERE one",
                            (head["id"], head["hash"], head.get("signature", "")))
        return len(fresh)


def _select_sql(where: str, order: str, limit: int | None) -> str:
    sql = f"SELECT id, body, prev_hash, hash FROM receipts {where} ORDER BY id {order}"
    return sql + (f" LIMIT {int(limit)}" if limit is not None else "")
