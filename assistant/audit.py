"""Tamper-evident audit receipts: an append-only SQLite log where each entry chains the hash of the one before.

Every entry's hash covers its id, the previous entry's hash and its canonical JSON body, so an edited,
deleted or reordered entry breaks the chain at that point. The time, user and action columns are copies of
the body for indexing; `verify` checks each against the hashed body, and filters read the body. Truncating
the tail leaves a valid chain, so the id and hash of the newest entry are also kept in a head file, written
under the same lock. Someone who can write the files can still truncate the log and rewrite the head file,
or delete everything; three outside witnesses catch that: a secret key outside GOVDATA_HOME that signs the
head (`GOVDATA_AUDIT__KEY_FILE`), a second append-only copy of every id and hash in another place
(`GOVDATA_AUDIT__WITNESS_FILE`), and a head hash a steward wrote down earlier (`verify --expect-head`).

Writers (app sessions, CLI runs, evaluations) serialise on a lock file, so concurrent processes never fork
the chain or lose an entry. SQLite triggers refuse UPDATE and DELETE through SQL; anything that bypasses them
(a hex editor, another SQLite build, dropping the triggers) is what `verify` detects.

With shared state (GOVDATA_STATE__POSTGRES_DSN, issue 34) the rows live in PostgreSQL (`audit_rows.py`): every
host's appends serialise on the database's head row, which is kept (and signed) with each append; each host still
writes its own head file and the witness file. `verify` checks the head row too, and a host that never appended
(no head file yet) relies on it.
"""

import contextlib
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.audit_rows import PostgresRows, ReceiptRows, Row, SqliteRows
from assistant.boundary import clean_any, cut, digest
from assistant.csvsafe import records_to_csv
from core.errors import FieldError, GovDataError
from core.files import atomic_write, file_lock
from core.settings import Settings
from core.state import shared_state
from core.state.migrations import GENESIS

ACTIONS = ("ask", "datasets.search", "docs.search", "sql.ask", "sql.run", "sql.replay", "sql.check", "sql.tables",
           "datasets.add", "sql.learn", "audit.read", "register.read",
           "register.grade", "register.review", "datasets.get", "docs.get", "catalog.overview", "tokens.manage",
           "knowledge.propose", "knowledge.review", "knowledge.import", "knowledge.recheck", "knowledge.read",
           "grants.manage", "grants.request", "grants.read", "users.manage")


@dataclass
class Receipt:
    """What was asked, by whom, from what, and what came back (as a hash). The log keeps at most
    GOVDATA_AUDIT__MAX_TEXT_CHARS of the question and SQL, and the sha256 of each in full (issue 26; receipts
    written before have no hashes). `sdc` is disclosure control's report for a protected result (issue 35)."""

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
    question_sha256: str = ""
    sql_sha256: str = ""
    sdc: dict[str, Any] = field(default_factory=dict)  # disclosure control: which rules acted, cells suppressed
    grants: list[str] = field(default_factory=list)  # the grants the use was made under (issue 33)

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


def sign(key: bytes, entry_id: int, entry_hash_: str) -> str:
    """HMAC-SHA256 of a head (id and hash) under the steward's key."""
    return hmac.new(key, f"{entry_id}\n{entry_hash_}".encode(), hashlib.sha256).hexdigest()


def read_key(path: Path) -> bytes:
    try:
        key = path.expanduser().read_bytes().strip()
    except OSError as exc:
        raise GovDataError(f"audit key_file {path}: cannot read it ({exc.strerror})") from None
    if len(key) < 32:
        raise GovDataError(f"audit key_file {path}: the key must be at least 32 bytes (use `govdata audit keygen`)")
    return key


def write_key(path: Path) -> None:
    """A new random key, readable only by its owner; an existing file is never overwritten."""
    path = path.expanduser()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise GovDataError(f"{path} exists; a key is never overwritten") from None
    except OSError as exc:
        raise GovDataError(f"{path}: cannot create it ({exc.strerror})") from None
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")


def open_log(settings: Settings) -> "AuditLog":
    """The audit log of these settings, with its outside witnesses, which may not live under GOVDATA_HOME."""
    home = settings.home.expanduser().resolve()
    for name, path in (("key_file", settings.audit.key_file), ("witness_file", settings.audit.witness_file)):
        if path is not None and home in path.expanduser().resolve().parents:
            raise GovDataError(f"audit {name} {path}: it must lie outside GOVDATA_HOME, or whoever can rewrite the "
                               "log can rewrite its witness too")
    key = read_key(settings.audit.key_file) if settings.audit.key_file else None
    state = shared_state(settings.state)
    return AuditLog(settings.audit_path, key=key, witness_file=settings.audit.witness_file,
                    max_text_chars=settings.audit.max_text_chars,
                    rows=PostgresRows(state) if state is not None else None)


def kept(receipt: Receipt, limit: int) -> None:
    """The receipt as the log keeps it, in place: every text cleaned (a lone surrogate or NUL cannot be stored,
    and a receipt must be written whatever the caller sent), the sha256 of the question and SQL in full, and
    each text cut to `limit` characters."""
    for item in fields(receipt):
        setattr(receipt, item.name, clean_any(getattr(receipt, item.name)))
    receipt.question_sha256 = digest(receipt.question) if receipt.question else ""
    receipt.sql_sha256 = digest(receipt.sql) if receipt.sql else ""
    for name in ("question", "sql", "outcome", "user", "role", "route", "model"):
        setattr(receipt, name, cut(getattr(receipt, name), limit))
    receipt.settings = {key: cut(value, limit) if isinstance(value, str) else value
                        for key, value in receipt.settings.items()}


class AuditLog:
    """The receipts under one folder: audit.sqlite (or the shared state's rows), head.json and a lock file;
    optionally a key that signs the head and a witness file elsewhere that receives every id and hash."""

    def __init__(self, folder: Path, key: bytes | None = None, witness_file: Path | None = None,
                 max_text_chars: int = 20_000, rows: ReceiptRows | None = None) -> None:
        self.folder = folder
        self.database = folder / "audit.sqlite"
        self.head_file = folder / "head.json"
        self._lock_file = folder / "audit.lock"
        self.key = key
        self.witness_file = witness_file.expanduser() if witness_file else None
        self.max_text_chars = max_text_chars
        self.rows = rows if rows is not None else SqliteRows(self.database)

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return file_lock(self._lock_file)

    def append(self, receipt: Receipt) -> Receipt:
        """Write one receipt at the end of the chain; returns it with id, time and hashes filled in."""
        if receipt.action not in ACTIONS:
            raise GovDataError(f"audit: unknown action {receipt.action!r}")
        kept(receipt, self.max_text_chars)

        def fill(last_id: int, last_hash: str) -> Row:
            receipt.time = datetime.now(UTC).isoformat(timespec="milliseconds")
            receipt.id, receipt.prev_hash = last_id + 1, last_hash
            body = _canonical(receipt.body())
            receipt.hash = entry_hash(receipt.id, receipt.prev_hash, body)
            return receipt.id, receipt.time, receipt.user, receipt.action, body, receipt.prev_hash, receipt.hash

        with self._locked():  # this host's processes in turn, so its head file only moves forward
            self.folder.mkdir(parents=True, exist_ok=True)
            self.rows.append(fill, self._head)
            self._write_head(receipt.id, receipt.hash)
        return receipt

    def _write_head(self, entry_id: int, entry_hash_: str) -> None:
        head = self._head(entry_id, entry_hash_)
        atomic_write(self.head_file, json.dumps(head))
        if self.witness_file is not None:
            self._witness(head)

    def _head(self, entry_id: int, entry_hash_: str) -> dict[str, Any]:
        head: dict[str, Any] = {"id": entry_id, "hash": entry_hash_}
        if self.key is not None:
            head["signature"] = sign(self.key, entry_id, entry_hash_)
        return head

    def _witness(self, head: dict[str, Any]) -> None:
        assert self.witness_file is not None
        try:
            self.witness_file.parent.mkdir(parents=True, exist_ok=True)
            with open(self.witness_file, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(head) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise GovDataError(f"audit witness_file {self.witness_file}: cannot append ({exc.strerror}); the "
                               "receipt is in the log, the witness is behind") from None

    def head(self) -> dict[str, Any]:
        """The newest entry's id and hash (signed when a key is set), to copy somewhere outside."""
        rows = self._rows(order="DESC", limit=1)
        return self._head(rows[0][0], rows[0][3]) if rows else self._head(0, GENESIS)

    def _rows(self, where: str = "", params: tuple[Any, ...] = (), order: str = "ASC",
              limit: int | None = None) -> list[tuple[Any, ...]]:
        return self.rows.select(where, params, order, limit)

    @staticmethod
    def _receipt(row: tuple[Any, ...]) -> Receipt:
        body = json.loads(row[1])
        known = {k: v for k, v in body.items() if k in Receipt.__dataclass_fields__}
        return Receipt(**known, id=row[0], prev_hash=row[2], hash=row[3])

    def recent(self, *, user: str | None = None, since: str | None = None, action: str | None = None,
             limit: int = 50) -> list[Receipt]:
        """Newest first, filtered by user, time (ISO date or datetime, inclusive) and action."""
        clauses, params = [], []
        for key, value, test in (("user", user, "="), ("time", since, ">="), ("action", action, "=")):
            if value:  # the hashed body, not the indexed copies, decides what a filter finds
                clauses.append(f"{self.rows.body_field(key)} {test} {self.rows.mark}")
                params.append(value)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return [self._receipt(r) for r in self._rows(where, tuple(params), "DESC", limit)]

    def protected_since(self, user: str, since: str) -> int:
        """How many of a user's answers since `since` (ISO time) disclosure control protected (issue 35: the daily
        limit). Reads the indexed user and time copies, which `verify` checks against the hashed body; on the
        shared state's chain (issue 34) every host's answers count."""
        return self.rows.protected_since(user, since)

    def get(self, entry_id: int) -> Receipt:
        rows = self._rows(f"WHERE id = {self.rows.mark}", (entry_id,))
        if not rows:
            raise GovDataError(f"audit: no receipt {entry_id}")
        return self._receipt(rows[0])

    def verify(self, expect_head: str | None = None) -> Verification:
        """Walk the chain from the first entry; name the first entry that is edited, missing or out of place,
        then check the head file (and its signature), the witness file and an expected head, where given."""
        rows = self._columns()
        previous, expected_id = GENESIS, 1
        for entry_id, entry_time, user, action, body, prev_hash, stored_hash in rows:
            problem = (self._check_entry(entry_id, expected_id, previous, body, prev_hash, stored_hash)
                       or _check_copies(entry_id, body, entry_time, user, action))
            if problem:
                return Verification(False, len(rows), entry_id, stored_hash, entry_id, problem)
            previous, expected_id = stored_hash, entry_id + 1
        last_id = expected_id - 1
        hashes = {row[0]: row[6] for row in rows}
        for check in (lambda: self._check_stored_head(hashes, last_id), lambda: self._check_head(hashes),
                      lambda: self._check_witness(hashes), lambda: _check_expected(hashes, expect_head)):
            problem, bad_id = check()
            if problem:
                return Verification(False, len(rows), last_id, previous, bad_id, problem)
        return Verification(True, len(rows), last_id, previous)

    def _columns(self) -> list[Row]:
        return self.rows.columns()

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

    def _check_head(self, hashes: dict[int, str]) -> tuple[str, int | None]:
        """The newest entry the head file names must still be there with the same hash (catches truncation);
        with a key, the head must carry the key's signature (catches a rewritten head). With shared rows a host
        that never appended has no head file; the head row stands in for it."""
        if not self.head_file.is_file():
            if self.rows.shared or not hashes:
                return "", None
            return "the head file is missing although entries exist", max(hashes)
        try:
            head = json.loads(self.head_file.read_text(encoding="utf-8"))
            head_id, head_hash = int(head["id"]), str(head["hash"])
        except (ValueError, KeyError, TypeError):
            return f"{self.head_file}: unreadable head file", None
        if self.key is not None and not hmac.compare_digest(str(head.get("signature", "")),
                                                            sign(self.key, head_id, head_hash)):
            return "the head file's signature does not match the audit key (the head was rewritten)", head_id
        if head_id not in hashes:
            return f"entries after {len(hashes)} were removed (the head names entry {head_id})", len(hashes) + 1
        if hashes[head_id] != head_hash:
            return f"entry {head_id} differs from the head file's hash", head_id
        return "", None

    def _check_stored_head(self, hashes: dict[int, str], last_id: int) -> tuple[str, int | None]:
        """Shared rows: the head row must name the chain's last entry (an entry removed from the end, or a head
        row moved back, shows here), signed by the key when one is set."""
        stored = self.rows.stored_head()
        if stored is None:
            return "", None
        head_id, head_hash = stored["id"], stored["hash"]
        if self.key is not None and head_id and not hmac.compare_digest(stored["signature"],
                                                                        sign(self.key, head_id, head_hash)):
            return "the head row's signature does not match the audit key (the head was rewritten)", head_id
        if head_id > last_id:
            return f"entries after {last_id} were removed (the head row names entry {head_id})", last_id + 1
        if head_id < last_id:
            return f"entries after {head_id} were added outside the chain's lock (the head row names {head_id})", \
                head_id + 1
        if hashes.get(head_id, GENESIS) != head_hash:
            return f"entry {head_id} differs from the head row's hash", head_id
        return "", None

    def _check_witness(self, hashes: dict[int, str]) -> tuple[str, int | None]:
        """Every id and hash the witness file received must still be in the chain, as it was."""
        if self.witness_file is None:
            return "", None
        if not self.witness_file.is_file():
            return (f"the witness file {self.witness_file} is missing", None) if hashes else ("", None)
        for number, line in enumerate(self.witness_file.read_text(encoding="utf-8").splitlines(), 1):
            try:
                seen = json.loads(line)
                seen_id, seen_hash = int(seen["id"]), str(seen["hash"])
            except (ValueError, KeyError, TypeError):
                return f"{self.witness_file}:{number}: unreadable witness line", None
            if self.key is not None and not hmac.compare_digest(str(seen.get("signature", "")),
                                                                sign(self.key, seen_id, seen_hash)):
                return f"{self.witness_file}:{number}: the signature does not match the audit key", seen_id
            if hashes.get(seen_id) != seen_hash:
                what = "is missing" if seen_id not in hashes else "differs from what the witness saw"
                return f"entry {seen_id} {what} ({self.witness_file}:{number})", seen_id
        return "", None

    def export(self, fmt: str, shown: Callable[[Receipt], Receipt] | None = None) -> str:
        """All receipts, oldest first, as JSON lines or CSV (list and dict fields as JSON text); `shown` gives
        each receipt as the reader may see it (masked)."""
        receipts = [(shown or _same)(self._receipt(r)).as_dict() for r in self._rows()]
        if fmt == "jsonl":
            return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in receipts)
        if fmt != "csv":
            raise FieldError("format", "expected jsonl or csv", fmt)
        columns = ["id", "time", *(f for f in Receipt.__dataclass_fields__ if f not in ("id", "time"))]
        return records_to_csv(columns, ({k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v
                                        for k, v in r.items()} for r in receipts))


def _same(receipt: Receipt) -> Receipt:
    return receipt


def _check_copies(entry_id: int, body: str, entry_time: str, user: str, action: str) -> str:
    """The indexed columns must say what the hashed body says (an edited column hides a receipt from filters)."""
    content = json.loads(body)
    for name, stored in (("time", entry_time), ("user", user), ("action", action)):
        if content.get(name) != stored:
            return f"entry {entry_id} was edited (its {name} column differs from its hashed content)"
    return ""


def _check_expected(hashes: dict[int, str], expect_head: str | None) -> tuple[str, int | None]:
    """An expected head, `HASH` or `ID:HASH` as `govdata audit head` printed it, must still be in the chain."""
    if not expect_head:
        return "", None
    wanted_id, _, wanted_hash = expect_head.strip().rpartition(":")
    if wanted_id and not wanted_id.isdigit():
        raise FieldError("expect_head", "expected HASH or ID:HASH", repr(expect_head))
    found = [i for i, h in hashes.items() if h == wanted_hash]
    if not found or (wanted_id and int(wanted_id) not in found):
        where = f"entry {wanted_id} with hash" if wanted_id else "an entry with hash"
        return f"{where} {wanted_hash[:16]}… is not in the log (removed or rewritten since)", \
            int(wanted_id) if wanted_id else None
    return "", None
