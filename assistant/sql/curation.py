"""The knowledge loop's steps (issue 32): propose, review (approve or reject, never by the proposer), learn and
import (a steward's direct approval), and the re-check when a table changes. Every step that lets an item teach
verifies it first: its SQL passes the guard and runs on the engine (`verify`, given by the SQL service)."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from assistant.boundary import clean
from assistant.sql.knowledge import (
    IN_USE,
    Knowledge,
    KnowledgeItem,
    expiry,
    next_id,
    now,
    put,
    same_question,
    step,
)
from core.errors import FieldError, GovDataError, NotFound


@dataclass(frozen=True)
class Verified:
    """What a verification found: the tables the item uses, at their current versions, and its result's columns."""

    tables: dict[str, str]
    columns: tuple[str, ...] = ()


Verify = Callable[[KnowledgeItem, str, Path | None], Verified]  # item, role, ad-hoc database


@dataclass(frozen=True)
class ImportReport:
    imported: int
    refused: list[dict[str, Any]] = field(default_factory=list)  # [{"line", "reason"}]
    ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"imported": self.imported, "refused": self.refused, "ids": self.ids}


@dataclass(frozen=True)
class Limits:
    """The longest question, SQL and note an import line may hold (the same bounds as every use case's text)."""

    question: int = 2000
    sql: int = 20_000
    note: int = 500


class Curation:
    """The steps over one store; `verify` guards and runs an item as a role."""

    def __init__(self, store: Knowledge, verify: Verify) -> None:
        self.store = store
        self.verify = verify

    def propose(self, draft: KnowledgeItem, role: str, user: str) -> KnowledgeItem:
        """A proposal, stored after it passes the guard and runs for its proposer: nobody proposes SQL they could
        not run themselves."""
        checked = self.verify(draft, role, None)
        with self.store.changing() as items:
            item = replace(draft, id=next_id(items), tables=checked.tables, columns=checked.columns, proposer=user,
                           proposer_role=role, created=now())
            item = step(item, user, role, "proposed")
            items.append(item)
        return item

    def review(self, item_id: str, *, approve: bool, user: str, role: str, reason: str = "",
               expires: str | None = None) -> KnowledgeItem:
        """A steward's decision on an item someone else proposed. Approving verifies it again as the reviewer (it
        must pass the guard and run today) and replaces an older pair for the same question."""
        with self.store.changing() as items:
            item = _find(items, item_id)
            if item.proposer == user:
                raise GovDataError(f"knowledge item {item.id} was proposed by {user}; another steward must review it "
                                   "(maker-checker)")
            if item.status == "rejected":
                raise GovDataError(f"knowledge item {item.id} was rejected; propose it again")
            if not approve:
                if not reason.strip():
                    raise FieldError("reason", "a rejection needs a reason")
                put(items, step(item, user, role, "rejected", reason.strip(), reviewer=user))
                return _find(items, item.id)
            if item.db:
                raise GovDataError(f"knowledge item {item.id} belongs to an ad-hoc database; import it again for "
                                   "that database")
            checked = self.verify(item, role, None)
            until = expiry(expires) if expires is not None else item.expires
            approved = step(item, user, role, "approved", reason.strip(), reviewer=user, tables=checked.tables,
                            columns=checked.columns, expires=until)
            _settle(items, approved, user, role)
        return approved

    def learn(self, question: str, sql: str, role: str, user: str) -> KnowledgeItem:
        """`sql learn`: a steward's pair, verified and approved in one step (proposer and reviewer are the same
        steward, and the history says so)."""
        if not question.strip():
            raise GovDataError("QUESTION must not be empty")
        draft = KnowledgeItem("", "pair", question=question.strip(), sql=sql.strip())
        checked = self.verify(draft, role, None)
        with self.store.changing() as items:
            item = _direct(draft, next_id(items), checked, user, role, "sql learn: approved directly by a steward")
            _settle(items, item, user, role)
        return item

    def import_pairs(self, lines: list[tuple[int, dict[str, str] | str]], *, role: str, user: str,
                     db: Path | None, scope: str, source: str) -> ImportReport:
        """Verified pairs from an import file as approved items of `scope` ("" the approved tables, else the ad-hoc
        database's fingerprint); a line that is broken, fails the guard or does not run is refused with its reason
        and nothing of it lands. The good lines land together, in one write."""
        refused: list[dict[str, Any]] = []
        good: list[tuple[int, KnowledgeItem, Verified]] = []
        for number, raw in lines:
            if isinstance(raw, str):
                refused.append({"line": number, "reason": raw})
                continue
            draft = KnowledgeItem("", "pair", question=raw["question"], sql=raw["sql"], text=raw.get("note", ""),
                                  db=scope)
            try:
                good.append((number, draft, self.verify(draft, role, db)))
            except GovDataError as exc:
                refused.append({"line": number, "reason": getattr(exc, "reason", None) or str(exc)})
        ids = []
        with self.store.changing() as items:
            for number, draft, checked in good:
                item = _direct(draft, next_id(items), checked, user, role, f"imported from {source}:{number}")
                _settle(items, item, user, role)
                ids.append(item.id)
        return ImportReport(len(ids), refused, ids)

    def recheck(self, current: dict[str, str], role: str, user: str) -> list[dict[str, str]]:
        """Every item in use on the approved tables whose recorded version of a table differs from `current`
        (name -> version), run again as `role`: one that fails is suspended with the reason, one whose result has
        other columns is flagged, one that holds takes the new versions. [{"id", "status", "reason"}]."""
        outcomes = []
        with self.store.changing() as items:
            for item in list(items):
                stale = [n for n, v in item.tables.items() if n in current and current[n] != v]
                if item.db or item.status not in IN_USE or not stale:
                    continue
                changed = _rechecked(item, self._try(item, role), user, role, stale)
                put(items, changed)
                outcomes.append({"id": item.id, "status": changed.status, "reason": changed.reason})
        return outcomes

    def _try(self, item: KnowledgeItem, role: str) -> Verified | str:
        try:
            return self.verify(item, role, None)
        except GovDataError as exc:
            return str(getattr(exc, "reason", None) or exc)


def _rechecked(item: KnowledgeItem, found: Verified | str, user: str, role: str, stale: list[str]) -> KnowledgeItem:
    what = f"{', '.join(stale)} changed"
    if isinstance(found, str):
        return step(item, user, role, "suspended", f"{what}: {found}")
    if item.columns and found.columns != item.columns:
        return step(item, user, role, "flagged", f"{what}: result columns {', '.join(item.columns)} -> "
                    f"{', '.join(found.columns)}", tables=found.tables, columns=found.columns)
    return step(item, user, role, item.status, item.reason, said=f"{what}: still holds", tables=found.tables)


def _direct(draft: KnowledgeItem, item_id: str, checked: Verified, user: str, role: str, reason: str) -> KnowledgeItem:
    item = replace(draft, id=item_id, tables=checked.tables, columns=checked.columns, proposer=user,
                   proposer_role=role, reviewer=user, created=now())
    return step(item, user, role, "approved", reason)


def _settle(items: list[KnowledgeItem], approved: KnowledgeItem, user: str, role: str) -> None:
    """Put an approved item in; an older pair in use for the same question (and database) is retired."""
    if approved.kind == "pair":
        for n, old in enumerate(items):
            if (old.id != approved.id and old.kind == "pair" and old.db == approved.db and old.status in IN_USE
                    and same_question(old.question, approved.question)):
                items[n] = step(old, user, role, "rejected", f"replaced by {approved.id}")
    put(items, approved)


def _find(items: list[KnowledgeItem], item_id: str) -> KnowledgeItem:
    found = next((i for i in items if i.id == item_id.strip()), None)
    if found is None:
        raise NotFound("id", "no knowledge item has this id", item_id)
    return found


def read_pairs(path: Path, limits: Limits) -> list[tuple[int, dict[str, str] | str]]:
    """The lines of an import file: {"question", "sql"} with an optional "note" (each bounded), or the reason a
    line cannot be read. Blank lines are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FieldError("file", f"cannot read it ({getattr(exc, 'strerror', None) or exc})", path) from None
    out: list[tuple[int, dict[str, str] | str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            out.append((number, _pair_line(line, limits)))
    return out


def _pair_line(line: str, limits: Limits) -> dict[str, str] | str:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"not JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(raw, dict):
        return 'expected an object {"question", "sql"}'
    pair: dict[str, str] = {}
    for name, limit, required in (("question", limits.question, True), ("sql", limits.sql, True),
                                  ("note", limits.note, False)):
        value = raw.get(name)
        if value is None and not required:
            continue
        if not isinstance(value, str) or not value.strip():
            return f"{name}: missing or not a text"
        if len(value) > limit:
            return f"{name}: longer than the limit of {limit:,} characters"
        pair[name] = clean(value).strip()
    return pair
