"""Grants (issue 33): sharing between departments and authorised operation, as data.

An organisation (a department or a licensed operator) may be granted read access, beyond its users' role, to one
approved table or catalog record, or to every one of a theme or a publisher: only the listed columns (sensitive
ones masked unless the grant says raw), only the rows a predicate selects, for a stated purpose, inside a term,
with a named contact who answers for its use. A grant can be suspended, resumed and revoked; a change of its term
or scope keeps the old version in its history. Requests are asked by an organisation's users and decided by a
steward.

This module is the pure model and its store: GOVDATA_HOME/grants.json, written whole and atomically under a lock
and read again when it changes, or, with the shared state (issue 34), one document in PostgreSQL changed under an
advisory lock, so every app server decides from the same grants. What a grant opens is decided at each call from
the store and today's date, so a revocation or an expiry holds at the next call. Checking a grant's target and
predicate against the approved tables is the use case's work (assistant/usecases/grants.py).
"""

import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from core.errors import FieldError, GovDataError, NotFound
from core.files import atomic_write, file_lock

if TYPE_CHECKING:
    from core.settings import Settings
    from core.state.postgres import PostgresState

SCOPES = ("dataset", "theme", "publisher")
STATUSES = ("active", "suspended", "revoked")  # what a steward set; `Grant.state` adds expired and not started
ORG_KINDS = ("department", "operator")
REQUEST_STATUSES = ("pending", "approved", "rejected")
SQL_PREFIX = "govdata-sql:"  # the catalog identifier of an approved table (assistant/sql/service.py)
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_MAX_TEXT = 500


def today_utc() -> date:
    """The day every term is read against (UTC, like the receipts)."""
    return datetime.now(UTC).date()


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Organisation:
    """A department or a licensed operator; its contact answers for the use of its grants unless a grant names
    another."""

    name: str
    kind: str
    contact: str
    title: str = ""
    created: str = ""
    created_by: str = ""


@dataclass(frozen=True)
class Grant:
    """One grant as it stands now (`version`), with every earlier version in `history` (oldest first)."""

    id: str
    org: str
    scope: str  # dataset | theme | publisher
    target: str  # an approved table's name or a catalog record's identifier; a theme; a publisher
    purpose: str
    start: str  # YYYY-MM-DD, first day of the term
    until: str  # YYYY-MM-DD, last day of the term
    contact: str
    columns: tuple[str, ...] = ()  # of a table: the readable columns (empty: every non-sensitive one)
    raw: bool = False  # listed sensitive columns shown raw, not masked
    rows: str = ""  # of a table: a DuckDB predicate selecting the readable rows (empty: every row)
    status: str = "active"
    reason: str = ""  # why it was last suspended or revoked
    version: int = 1
    created: str = ""
    created_by: str = ""
    changed: str = ""
    changed_by: str = ""
    request: str = ""  # the request it was approved from
    history: tuple[dict[str, Any], ...] = ()

    def state(self, today: date) -> str:
        """active, suspended or revoked as set; an active grant outside its term is `not started` or `expired`."""
        if self.status != "active":
            return self.status
        if today < date.fromisoformat(self.start):
            return "not started"
        if today > date.fromisoformat(self.until):
            return "expired"
        return "active"

    def covers_table(self, name: str, publisher: str, themes: Iterable[str]) -> bool:
        """Whether this grant's scope takes in an approved table."""
        if self.scope == "dataset":
            return self.target.lower() in (name.lower(), f"{SQL_PREFIX}{name}".lower())
        if self.scope == "publisher":
            return bool(publisher) and self.target.casefold() == publisher.casefold()
        return any(self.target.casefold() == t.casefold() for t in themes)

    def covers_record(self, identifier: str, record: Mapping[str, Any]) -> bool:
        """Whether this grant's scope takes in a catalog record (an approved table's record among them)."""
        if self.scope == "dataset":
            return identifier in (self.target, f"{SQL_PREFIX}{self.target}")
        if self.scope == "publisher":
            return self.target.casefold() == str(record.get("publisher") or "").casefold() != ""
        return any(self.target.casefold() == str(t).casefold() for t in record.get("themes") or ())

    def current(self) -> dict[str, Any]:
        """This version's fields, without the history (what a history entry keeps of it)."""
        return {k: v for k, v in _plain(self).items() if k != "history"}

    def public(self, today: date) -> dict[str, Any]:
        """What `grants list` and `grants show` print: every field, the state today and the history."""
        return _plain(self) | {"state": self.state(today)}


@dataclass(frozen=True)
class GrantRequest:
    """Access asked for by a user of an organisation, waiting for (or given) a steward's decision."""

    id: str
    org: str
    user: str
    scope: str
    target: str
    purpose: str
    start: str
    until: str
    columns: tuple[str, ...] = ()
    raw: bool = False
    rows: str = ""
    status: str = "pending"
    created: str = ""
    decided: str = ""
    decided_by: str = ""
    reason: str = ""  # why it was rejected, or how the approval narrowed it
    grant: str = ""  # the grant an approval made

    def public(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class Book:
    """Everything the grants file holds."""

    organisations: Mapping[str, Organisation] = field(default_factory=dict)
    grants: Mapping[str, Grant] = field(default_factory=dict)
    requests: Mapping[str, GrantRequest] = field(default_factory=dict)

    def organisation(self, name: str, field: str = "org") -> Organisation:
        found = self.organisations.get(name)
        if found is None:
            known = ", ".join(sorted(self.organisations)) or "none yet (a steward adds them: orgs add)"
            raise FieldError(field, f"no organisation has this name; known: {known}", name)
        return found

    def grant(self, grant_id: str) -> Grant:
        found = self.grants.get(grant_id)
        if found is None:
            raise NotFound("id", "no grant has this id", grant_id)
        return found

    def request(self, request_id: str) -> GrantRequest:
        found = self.requests.get(request_id)
        if found is None:
            raise NotFound("id", "no request has this id", request_id)
        return found

    def next_id(self, prefix: str) -> str:
        """g0001, g0002, ... (and r0001, ...): ids are never reused, so a receipt's grant id means one grant."""
        taken = self.grants if prefix == "g" else self.requests
        return f"{prefix}{len(taken) + 1:04d}"


def applying(grants: Iterable[Grant], org: str | None, today: date) -> list[Grant]:
    """The grants that open something for a member of `org` today: its own, active, inside their term."""
    if not org:
        return []
    return [g for g in grants if g.org == org and g.state(today) == "active"]


# ---- checks of what a grant or request says (the model's own rules; the tables are checked by the use case) ----

def org_name(value: str) -> str:
    name = value.strip().lower()
    if not _NAME.fullmatch(name):
        raise FieldError("org", "use 1-64 lower-case letters, digits, '.', '_' or '-'", value)
    return name


def day(value: str | None, name: str, default: date | None = None) -> date:
    if value is None or not value.strip():
        if default is None:
            raise FieldError(name, "expected a date YYYY-MM-DD")
        return default
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise FieldError(name, "expected a date YYYY-MM-DD", value) from None


def term(start: str | None, until: str | None, today: date) -> tuple[str, str]:
    """(start, until) as ISO days: until not in the past, start (default today) not after until."""
    last = day(until, "until")
    if last < today:
        raise FieldError("until", f"the term ends in the past (today is {today.isoformat()})", until)
    first = day(start, "from", today)
    if first > last:
        raise FieldError("from", f"the term starts after it ends ({last.isoformat()})", start)
    return first.isoformat(), last.isoformat()


def text_field(value: str | None, name: str, *, required: bool = True) -> str:
    text = " ".join((value or "").split())
    if required and not text:
        raise FieldError(name, "must not be empty")
    if len(text) > _MAX_TEXT:
        raise FieldError(name, f"at most {_MAX_TEXT} characters")
    return text


def column_list(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """`a,b` (or a list) as unique names in the order given."""
    if value is None:
        return ()
    parts = value.split(",") if isinstance(value, str) else list(value)
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


# ---- the file ----

class GrantFile:
    """The grants, requests and organisations of one GOVDATA_HOME. Reads are cached by the file's stamp; every
    change holds the lock, reads the file afresh and replaces it whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_file = path.with_name(path.name + ".lock")
        self._cached: tuple[tuple[int, ...], Book] | None = None
        self._reading = threading.Lock()

    def book(self) -> Book:
        stamp = self._stamp()
        with self._reading:
            if self._cached is None or self._cached[0] != stamp:
                self._cached = (stamp, self._read())
            return self._cached[1]

    def change(self, edit: Callable[[Book], Book]) -> Book:
        """Apply `edit` to the file as it is now, under the lock; nothing is written when it raises."""
        with file_lock(self._lock_file):
            changed = edit(self._read())
            self._write(changed)
        return changed

    def _stamp(self) -> tuple[int, ...]:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return ()
        return info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns

    def _read(self) -> Book:
        try:
            return book_of(json.loads(self.path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return Book()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise GovDataError(f"grants file {self.path} is unreadable or malformed: {exc}") from None

    def _write(self, book: Book) -> None:
        atomic_write(self.path, json.dumps(payload_of(book), ensure_ascii=False, indent=1) + "\n")


class GrantStore(Protocol):
    """Where the grants, requests and organisations live: `book()` as they are now, `change(edit)` all at once."""

    def book(self) -> Book: ...

    def change(self, edit: Callable[[Book], Book]) -> Book: ...


class PostgresGrants:
    """The grants as one document in the shared state's `grant_book` table (issue 34), read at every call so a
    revocation on one app server holds on every other at the next call; changed under a transaction-level advisory
    lock, and nothing is written when the edit raises (the transaction rolls back)."""

    def __init__(self, state: "PostgresState") -> None:
        self.state = state

    def book(self) -> Book:
        with self.state.connection() as con:
            row = con.execute("SELECT document FROM grant_book WHERE id = 1").fetchone()
        return _parsed(row[0]) if row else Book()

    def change(self, edit: Callable[[Book], Book]) -> Book:
        with self.state.transaction() as con:
            con.execute("SELECT pg_advisory_xact_lock(%s)", (_GRANTS_LOCK,))
            row = con.execute("SELECT document FROM grant_book WHERE id = 1").fetchone()
            changed = edit(_parsed(row[0]) if row else Book())
            con.execute("INSERT INTO grant_book (id, document) VALUES (1, %s) ON CONFLICT (id) DO UPDATE SET "
                        "document = EXCLUDED.document", (json.dumps(payload_of(changed), ensure_ascii=False),))
        return changed


_GRANTS_LOCK = 0x60DA7A33  # the advisory lock key of grant changes (issue 33's store on the shared state)


def grant_store(settings: "Settings") -> GrantStore:
    """The grants of these settings: the shared state's document, or GOVDATA_HOME/grants.json."""
    from core.state import shared_state

    state = shared_state(settings.state)
    return PostgresGrants(state) if state is not None else GrantFile(settings.grants_path)


def merged(book: Book, other: Book) -> Book:
    """`book` with what `other` holds that it lacks (by name and id): `state migrate`, idempotent."""
    return Book({**other.organisations, **book.organisations}, {**other.grants, **book.grants},
                {**other.requests, **book.requests})


def book_of(raw: dict[str, Any]) -> Book:
    """A book from its JSON form (the grants file, the shared document)."""
    return Book({o["name"]: Organisation(**o) for o in raw.get("organisations", [])},
                {g["id"]: _grant(g) for g in raw.get("grants", [])},
                {r["id"]: _request(r) for r in raw.get("requests", [])})


def payload_of(book: Book) -> dict[str, Any]:
    return {"organisations": [asdict(o) for o in book.organisations.values()],
            "grants": [_plain(g) for g in book.grants.values()],
            "requests": [_plain(r) for r in book.requests.values()]}


def _parsed(document: str) -> Book:
    try:
        return book_of(json.loads(document))
    except (ValueError, KeyError, TypeError) as exc:
        raise GovDataError(f"the shared grants document is malformed: {exc}") from None


def with_organisation(book: Book, org: Organisation) -> Book:
    if org.name in book.organisations:
        raise FieldError("org", "an organisation with this name exists", org.name)
    return replace(book, organisations={**book.organisations, org.name: org})


def with_grant(book: Book, grant: Grant) -> Book:
    return replace(book, grants={**book.grants, grant.id: grant})


def with_request(book: Book, request: GrantRequest) -> Book:
    return replace(book, requests={**book.requests, request.id: request})


def changed(grant: Grant, by: str, note: str, **values: Any) -> Grant:
    """The grant's next version with `values`; the version it replaces goes to the history, with who changed it,
    when and why (`note`)."""
    when = now_utc()
    kept = grant.current() | {"replaced": when, "replaced_by": by, "change": note}
    return replace(grant, **values, version=grant.version + 1, changed=when, changed_by=by,
                   history=(*grant.history, kept))


def _plain(value: Any) -> dict[str, Any]:
    out = asdict(value)
    for key, item in out.items():
        if isinstance(item, tuple):
            out[key] = list(item)
    return out


def _grant(raw: dict[str, Any]) -> Grant:
    known = {f.name for f in fields(Grant)}
    values = {k: v for k, v in raw.items() if k in known}
    values["columns"] = tuple(values.get("columns") or ())
    values["history"] = tuple(values.get("history") or ())
    return Grant(**values)


def _request(raw: dict[str, Any]) -> GrantRequest:
    known = {f.name for f in fields(GrantRequest)}
    values = {k: v for k, v in raw.items() if k in known}
    values["columns"] = tuple(values.get("columns") or ())
    return GrantRequest(**values)
