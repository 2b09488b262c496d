"""Knowledge about the approved tables (issue 32): verified question -> SQL pairs, terms and table notes, each tied
to the tables (and their versions) it uses, with the states a maker-checker review moves it through.

One JSON file under GOVDATA_HOME/sql, rewritten atomically under a lock, so two stewards deciding at once never
lose a decision. The `sql learn` examples of earlier versions (examples.jsonl) are read into it as approved
pairs until the first change writes the file; examples.jsonl is then no longer read.

With shared state (issue 34, GOVDATA_STATE__POSTGRES_DSN) the items are rows of the state's `knowledge` table (one
JSON document each, in order), changed under an advisory lock in one transaction, behind the same interface
(`Knowledge`, `knowledge_store`), so an item approved on one app server is in use on every other at once.
"""

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from core.errors import FieldError, GovDataError, NotFound
from core.files import atomic_write, file_lock
from ingest.tables import quote

if TYPE_CHECKING:
    from core.settings import Settings
    from core.state.postgres import PostgresState

KINDS = ("pair", "term", "note")
STATUSES = ("proposed", "approved", "rejected", "suspended", "flagged", "expired")
IN_USE = ("approved", "flagged")  # a flagged item still runs; its result changed shape and a steward looks again
FORMAT = 1
LEGACY = "examples.jsonl"


@dataclass(frozen=True)
class KnowledgeItem:
    """One thing the assistant was taught. A pair has `question` and `sql`; a term has `term`, its definition in
    `text` and optionally a SQL expression over its table's columns in `sql`; a note has `text` about `tables`.
    `db` is "" for the approved tables, or the fingerprint of the ad-hoc database the item belongs to."""

    id: str
    kind: str
    question: str = ""
    term: str = ""
    text: str = ""
    sql: str = ""
    tables: dict[str, str] = field(default_factory=dict)  # name -> version when last verified
    db: str = ""
    status: str = "proposed"
    proposer: str = ""
    proposer_role: str = ""
    reviewer: str = ""
    reason: str = ""
    created: str = ""
    expires: str = ""  # YYYY-MM-DD: not used after that day
    columns: tuple[str, ...] = ()  # the result's columns when last verified (a change of shape is flagged)
    history: tuple[dict[str, str], ...] = ()

    def state(self, today: date | None = None) -> str:
        """The status as it holds today: an approved or flagged item past its expiry date is expired."""
        day = (today or datetime.now(UTC).date()).isoformat()
        return "expired" if self.status in IN_USE and self.expires and self.expires < day else self.status

    def in_use(self, today: date | None = None) -> bool:
        return self.state(today) in IN_USE

    @property
    def subject(self) -> str:
        """What the item is about, in one line: the question, the term, or the note's text."""
        return self.question or self.term or self.text

    def as_dict(self, today: date | None = None) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "question": self.question, "term": self.term, "text": self.text,
                "sql": self.sql, "tables": dict(self.tables), "db": self.db, "status": self.state(today),
                "proposer": self.proposer, "proposer_role": self.proposer_role, "reviewer": self.reviewer,
                "reason": self.reason, "created": self.created, "expires": self.expires,
                "columns": list(self.columns), "history": [dict(h) for h in self.history]}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "KnowledgeItem":
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        known["tables"] = {str(k): str(v) for k, v in dict(known.get("tables") or {}).items()}
        known["columns"] = tuple(str(c) for c in known.get("columns") or ())
        known["history"] = tuple(dict(h) for h in known.get("history") or ())
        if known.get("status") == "expired":  # a state, never stored
            known["status"] = "approved"
        return cls(**known)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def step(item: KnowledgeItem, user: str, role: str, status: str, reason: str = "", *, said: str | None = None,
         **changes: Any) -> KnowledgeItem:
    """The item after one decision, with the decision appended to its history (`said`, when given, is what the
    history says instead of the item's new reason)."""
    entry = {"time": now(), "user": user, "role": role, "status": status, "reason": reason if said is None else said}
    return replace(item, status=status, reason=reason, history=(*item.history, entry), **changes)


def checked_sql(item: KnowledgeItem) -> str:
    """The query that verifies an item: a pair's SQL; a term's expression read from its table; "" for a note or a
    term without SQL."""
    if item.kind == "pair":
        return item.sql
    if item.kind == "term" and item.sql and item.tables:
        return f"SELECT ({item.sql}) AS term FROM {quote(next(iter(item.tables)))}"
    return ""


def fingerprint(tables: dict[str, str]) -> str:
    """An ad-hoc database's identity: its tables and their content versions (the same file gives the same one)."""
    text = json.dumps(sorted(tables.items()), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def expiry(value: str | None) -> str:
    """A YYYY-MM-DD expiry date, checked; "" for none."""
    if not value:
        return ""
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise FieldError("expires", "expected a date YYYY-MM-DD", value) from None


def same_question(a: str, b: str) -> bool:
    return _normal(a) == _normal(b)


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower().rstrip("?？。.! ")


class KnowledgeStore:
    """The items under `root` (GOVDATA_HOME/sql): knowledge.json and its lock."""

    def __init__(self, root: Path) -> None:
        self.path = root / "knowledge.json"
        self.legacy = root / LEGACY
        self._lock = root / "knowledge.lock"

    def items(self) -> list[KnowledgeItem]:
        if self.path.is_file():
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                return [KnowledgeItem.from_dict(item) for item in raw["items"]]
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise GovDataError(f"{self.path} is damaged ({exc}); restore it from a backup") from None
        return migrated(self.legacy) if self.legacy.is_file() else []

    def get(self, item_id: str) -> KnowledgeItem:
        return item_of(self.items(), item_id)

    @contextmanager
    def changing(self) -> Iterator[list[KnowledgeItem]]:
        """The items, to change in place (replace, append) while the lock is held; written when the block ends
        without an error, so a refused decision changes nothing."""
        with file_lock(self._lock):
            items = self.items()
            yield items
            payload = {"format": FORMAT, "items": [i.as_dict() | {"status": i.status} for i in items]}
            atomic_write(self.path, json.dumps(payload, ensure_ascii=False, indent=1))


class Knowledge(Protocol):
    """The knowledge items of a deployment: knowledge.json (embedded) or the shared state's table."""

    def items(self) -> list[KnowledgeItem]: ...

    def get(self, item_id: str) -> KnowledgeItem: ...

    def changing(self) -> AbstractContextManager[list[KnowledgeItem]]: ...


def item_of(items: list[KnowledgeItem], item_id: str) -> KnowledgeItem:
    """The item with this id (either store's `get`), or NotFound naming the id."""
    found = next((i for i in items if i.id == item_id.strip()), None)
    if found is None:
        raise NotFound("id", "no knowledge item has this id", item_id)
    return found


def _payload(item: KnowledgeItem) -> str:
    return json.dumps(item.as_dict() | {"status": item.status}, ensure_ascii=False)


class PostgresKnowledge:
    """The items in the shared state's `knowledge` table, oldest first, read at every call; changed whole under a
    transaction-level advisory lock, so two stewards deciding at once on two hosts never lose a decision."""

    def __init__(self, state: "PostgresState") -> None:
        self.state = state

    def items(self) -> list[KnowledgeItem]:
        with self.state.connection() as con:
            rows = con.execute("SELECT item FROM knowledge ORDER BY seq").fetchall()
        return [KnowledgeItem.from_dict(json.loads(row[0])) for row in rows]

    def get(self, item_id: str) -> KnowledgeItem:
        return item_of(self.items(), item_id)

    @contextmanager
    def changing(self) -> Iterator[list[KnowledgeItem]]:
        """As `KnowledgeStore.changing`: nothing is written when the block raises (the transaction rolls back)."""
        with self.state.transaction() as con:
            con.execute("SELECT pg_advisory_xact_lock(%s)", (_KNOWLEDGE_LOCK,))
            rows = con.execute("SELECT item FROM knowledge ORDER BY seq").fetchall()
            items = [KnowledgeItem.from_dict(json.loads(row[0])) for row in rows]
            before = [row[0] for row in rows]
            yield items
            after = [_payload(i) for i in items]
            if after != before:
                con.execute("DELETE FROM knowledge")
                for seq, (item, text) in enumerate(zip(items, after, strict=True)):
                    con.execute("INSERT INTO knowledge (id, seq, item) VALUES (%s, %s, %s)", (item.id, seq, text))

    def put(self, items: list[KnowledgeItem]) -> int:
        """Append the items whose id is not there yet (`state migrate`); how many were new."""
        with self.changing() as current:
            known = {i.id for i in current}
            new = [i for i in items if i.id not in known]
            current.extend(new)
        return len(new)


_KNOWLEDGE_LOCK = 0x60DA7A32  # the advisory lock key of knowledge changes (issue 32's store on the shared state)


def knowledge_store(settings: "Settings") -> Knowledge:
    """The knowledge of these settings: the shared state's table, or GOVDATA_HOME/sql/knowledge.json."""
    from core.state import shared_state

    state = shared_state(settings.state)
    return PostgresKnowledge(state) if state is not None else KnowledgeStore(settings.sql_path)


def next_id(items: list[KnowledgeItem]) -> str:
    """k1, k2, ...: short enough to type in `govdata knowledge approve ID`."""
    numbers = [int(i.id[1:]) for i in items if re.fullmatch(r"k\d+", i.id)]
    return f"k{max(numbers, default=0) + 1}"


def put(items: list[KnowledgeItem], item: KnowledgeItem) -> None:
    """Replace the item of the same id in place, or append it."""
    for n, old in enumerate(items):
        if old.id == item.id:
            items[n] = item
            return
    items.append(item)


def migrated(path: Path) -> list[KnowledgeItem]:
    """The lines of an examples.jsonl (`sql learn` before issue 32) as approved pairs; table versions unknown
    (""), so the next change of such a table re-checks them."""
    out: list[KnowledgeItem] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            question, sql, tables = str(raw["question"]), str(raw["sql"]), [str(t) for t in raw.get("tables", ())]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise GovDataError(f"{path}:{number}: damaged example ({exc})") from None
        added = str(raw.get("added_at", ""))
        entry = {"time": added, "user": "sql learn", "role": "", "status": "approved",
                 "reason": f"migrated from {LEGACY}"}
        out.append(KnowledgeItem(f"k{len(out) + 1}", "pair", question=question, sql=sql,
                                 tables=dict.fromkeys(tables, ""), status="approved", proposer="sql learn",
                                 reviewer="sql learn", reason=f"migrated from {LEGACY}", created=added,
                                 history=(entry,)))
    return out
