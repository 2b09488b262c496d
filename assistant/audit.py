"""Tamper-evident audit receipts: an append-only SQLite log where each entry chains the hash of the one before.

Every entry's hash covers its id, the previous entry's hash and its canonical JSON body, so an edited,
deleted or reordered entry breaks the chain at that point. Truncating the tail leaves a valid chain, so the
id and hash of the newest entry are also kept in a separate head file, written under the same lock; a
steward can copy `govdata audit verify --json`'s head hash elsewhere as an outside witness.

Writers (app sessions, CLI runs, evaluations) serialise on a lock file, so concurrent processes never fork
the chain or lose an entry. SQLite triggers refuse UPDATE and DELETE through SQL; anything that bypasses them
(a hex editor, another SQLite build, dropping the triggers) is what `verify` detects.
"""

import contextlib
import csv
import fcntl
import hashlib
import io
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.errors import GovDataError

GENESIS = "0" * 64
_SCHEMA = """
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
ACTIONS = ("ask", "datasets.search", "docs.search", "sql.ask", "sql.run", "sql.replay", "sql.check", "sql.tables")


@dataclass
class Receipt:
    """What was asked, by whom, from what, and what came back (as a hash)."""

    action: str
    user: str
    role: str
    question: str = ""
    route: str = ""
    interface: str = "cli"
    chunk_ids: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    datasets: dict[str, str] = field(default_factory=dict)
    sql: str = ""
    row_count: int | None = None
    model: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    answer_hash: str = ""
    raw_values: bool = False
    outcome: str = "ok"
    id: int = 0
    time: str = ""
    prev_hash: str = ""
    hash: str = ""

    def body(self) -> dict[str, Any]:
        """The hashed content: every field but the chain bookkeeping."""
        values = asdict(self)
        for key in ("id", "prev_hash", "hash"):
            values.pop(key)
        return values

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def content_hash(value: Any) -> str:
    """sha256 of a value's canonical JSON (sorted keys, no spaces); used for answer hashes."""
    return hashlib.sha256(_canonical(value).encode("utf-8")).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def entry_hash(entry_id: int, prev_hash: str, body: str) -> str:
    return hashlib.sha256(f"{entry_id}\n{prev_hash}\n{body}".encode()).hexdigest()


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    head_id: int
    head_hash: str
    first_bad_id: int | None = None
    problem: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class AuditLog:
    """The receipts under one folder: audit.sqlite, head.json and a lock file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.database = folder / "audit.sqlite"
        self.head_file = folder / "head.json"
        self._lock_file = folder / "audit.lock"

    def _connect(self) -> sqlite3.Connection:
        self.folder.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.database, timeout=60, isolation_level=None)
        connection.execute("PRAGMA busy_timeout = 60000")
        connection.executescript(_SCHEMA)
        return connection

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self._lock_file, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def append(self, receipt: Receipt) -> Receipt:
        """Write one receipt at the end of the chain; returns it with id, time and hashes filled in."""
        if receipt.action not in ACTIONS:
            raise GovDataError(f"audit: unknown action {receipt.action!r}")
        with self._locked():
            receipt.time = datetime.now(UTC).isoformat(timespec="milliseconds")
            connection = self._connect()
            try:
                connection.execute("BEGIN IMMEDIATE")
                last = connection.execute("SELECT id, hash FROM receipts ORDER BY id DESC LIMIT 1").fetchone()
                receipt.id, receipt.prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
                body = _canonical(receipt.body())
                receipt.hash = entry_hash(receipt.id, receipt.prev_hash, body)
                connection.execute(
                    "INSERT INTO receipts (id, time, user, action, body, prev_hash, hash) VALUES (?,?,?,?,?,?,?)",
                    (receipt.id, receipt.time, receipt.user, receipt.action, body, receipt.prev_hash, receipt.hash),
                )
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            finally:
                connection.close()
            self._write_head(receipt.id, receipt.hash)
        return receipt

    def _write_head(self, entry_id: int, entry_hash_: str) -> None:
        temporary = self.head_file.with_suffix(".tmp")
        temporary.write_text(json.dumps({"id": entry_id, "hash": entry_hash_}), encoding="utf-8")
        os.replace(temporary, self.head_file)

    def _rows(self, where: str = "", params: tuple[Any, ...] = (), order: str = "ASC",
              limit: int | None = None) -> list[tuple[Any, ...]]:
        if not self.database.is_file():
            return []
        connection = self._connect()
        try:
            sql = f"SELECT id, body, prev_hash, hash FROM receipts {where} ORDER BY id {order}"
            if limit is not None:
                sql += f" LIMIT {int(limit)}"
            return connection.execute(sql, params).fetchall()
        finally:
            connection.close()

    @staticmethod
    def _receipt(row: tuple[Any, ...]) -> Receipt:
        body = json.loads(row[1])
        known = {k: v for k, v in body.items() if k in Receipt.__dataclass_fields__}
        return Receipt(**known, id=row[0], prev_hash=row[2], hash=row[3])

    def recent(self, *, user: str | None = None, since: str | None = None, action: str | None = None,
             limit: int = 50) -> list[Receipt]:
        """Newest first, filtered by user, time (ISO date or datetime, inclusive) and action."""
        clauses, params = [], []
        if user:
            clauses.append("user = ?")
            params.append(user)
        if since:
            clauses.append("time >= ?")
            params.append(since)
        if action:
            clauses.append("action = ?")
            params.append(action)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return [self._receipt(r) for r in self._rows(where, tuple(params), "DESC", limit)]

    def get(self, entry_id: int) -> Receipt:
        rows = self._rows("WHERE id = ?", (entry_id,))
        if not rows:
            raise GovDataError(f"audit: no receipt {entry_id}")
        return self._receipt(rows[0])

    def verify(self) -> Verification:
        """Walk the chain from the first entry; name the first entry that is edited, missing or out of place."""
        rows = self._rows()
        previous, expected_id = GENESIS, 1
        for entry_id, body, prev_hash, stored_hash in rows:
            problem = self._check_entry(entry_id, expected_id, previous, body, prev_hash, stored_hash)
            if problem:
                return Verification(False, len(rows), entry_id, stored_hash, entry_id, problem)
            previous, expected_id = stored_hash, entry_id + 1
        last_id = expected_id - 1
        head_problem = self._check_head(rows)
        if head_problem:
            return Verification(False, len(rows), last_id, previous, last_id + 1 if rows else 1, head_problem)
        return Verification(True, len(rows), last_id, previous)

    @staticmethod
    def _check_entry(entry_id: int, expected_id: int, previous: str, body: str, prev_hash: str,
                     stored_hash: str) -> str:
        if entry_id != expected_id:
            return f"entry {expected_id} is missing (next entry is {entry_id})"
        if prev_hash != previous:
            return f"entry {entry_id} does not follow entry {entry_id - 1} (deleted or reordered)"
        if entry_hash(entry_id, prev_hash, body) != stored_hash:
            return f"entry {entry_id} was edited (its hash does not match its content)"
        return ""

    def _check_head(self, rows: list[tuple[Any, ...]]) -> str:
        """The newest entry the head file names must still be there with the same hash (catches truncation)."""
        if not self.head_file.is_file():
            return "the head file is missing although entries exist" if rows else ""
        try:
            head = json.loads(self.head_file.read_text(encoding="utf-8"))
            head_id, head_hash = int(head["id"]), str(head["hash"])
        except (ValueError, KeyError, TypeError):
            return f"{self.head_file}: unreadable head file"
        hashes = {row[0]: row[3] for row in rows}
        if head_id not in hashes:
            return f"entries after {len(rows)} were removed (the head names entry {head_id})"
        if hashes[head_id] != head_hash:
            return f"entry {head_id} differs from the head file's hash"
        return ""

    def export(self, fmt: str) -> str:
        """All receipts, oldest first, as JSON lines or CSV (list and dict fields as JSON text)."""
        receipts = [self._receipt(r).as_dict() for r in self._rows()]
        if fmt == "jsonl":
            return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in receipts)
        if fmt != "csv":
            raise GovDataError(f"--format {fmt}: expected jsonl or csv")
        out = io.StringIO()
        fields = ["id", "time", *(f for f in Receipt.__dataclass_fields__ if f not in ("id", "time"))]
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for r in receipts:
            writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v
                             for k, v in r.items()})
        return out.getvalue()
