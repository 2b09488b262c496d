"""Use cases of the knowledge loop (issue 32): anyone who may ask SQL questions proposes a pair, a term or a table
note (`knowledge.propose`); a steward who is not the proposer approves or rejects it (`knowledge.review`), imports
verified pairs, re-checks items, and reads the queue and the demand. Each leaves a receipt."""

import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.policy import pii
from assistant.sql.curation import ImportReport, Limits, read_pairs
from assistant.sql.knowledge import KINDS, STATUSES, KnowledgeItem, expiry
from core.dates import parse_since
from core.errors import FieldError, NotFound

if TYPE_CHECKING:
    from assistant.audit import Receipt

from assistant.usecases.desk import Desk, _entry

DEMAND_SCAN = 100_000  # newest sql.ask receipts read for the demand list


class KnowledgeUseCases(Desk):

    @_entry("knowledge.propose")
    def knowledge_propose(self, kind: str, *, role: str, question: str = "", sql: str = "", term: str = "",
                          text: str = "", tables: list[str] | None = None, expires: str | None = None,
                          user: str | None = None) -> KnowledgeItem:
        """Propose a pair (question, sql), a term (term, text as its definition, optional sql expression on one of
        `tables`) or a note (text about `tables`); it must pass the guard and run for the proposer."""
        with self._receipt("knowledge.propose", role, user, question=question or term or text, sql=sql,
                           route="sql") as receipt:
            self.role(role).require("knowledge.propose")
            draft = _draft(kind, question, sql, term, text, tables or [], expires)
            item = self.sql.curation.propose(draft, role, receipt.user)
            receipt.datasets, receipt.outcome = dict(item.tables), f"proposed {item.id}"
        return self._visible(role, item)

    @_entry("knowledge.review")
    def knowledge_review(self, item_id: str, *, approve: bool, role: str, reason: str = "",
                         expires: str | None = None, user: str | None = None) -> KnowledgeItem:
        """Approve (verified again as the reviewer) or reject (with a reason) an item; the proposer may do
        neither. Leaves a `knowledge.review` receipt, a refusal too."""
        verb = "approve" if approve else "reject"
        with self._receipt("knowledge.review", role, user, question=f"{verb} {item_id}", route="sql") as receipt:
            self.role(role).require("knowledge.review")
            item = self.sql.curation.review(item_id, approve=approve, user=receipt.user, role=role, reason=reason,
                                            expires=expires)
            receipt.sql, receipt.datasets = item.sql, dict(item.tables)
            receipt.outcome = f"{item.status}: {item.id}" + (f" ({item.reason})" if item.reason else "")
        return self._visible(role, item)

    @_entry("knowledge.read")
    def knowledge_items(self, *, role: str, user: str | None = None, status: str | None = None,
                        kind: str | None = None) -> list[KnowledgeItem]:
        """The queue and everything else (`knowledge.review`): waiting proposals, suspended and flagged items
        first, then the rest, newest first."""
        with self._receipt("knowledge.read", role, user, question=f"list status={status} kind={kind}",
                           route="sql") as receipt:
            self.role(role).require("knowledge.review")
            if status is not None and status not in STATUSES:
                raise FieldError("status", f"expected one of: {', '.join(STATUSES)}", status)
            if kind is not None and kind not in KINDS:
                raise FieldError("kind", f"expected one of: {', '.join(KINDS)}", kind)
            found = [i for i in self.sql.reviewable(self.sql.knowledge.items(), role)
                     if (status is None or i.state() == status) and (kind is None or i.kind == kind)]
            found.sort(key=lambda i: (_URGENCY.get(i.state(), 9), -_number(i.id)))
            receipt.row_count = len(found)
        return self._visible(role, found)

    @_entry("knowledge.read")
    def knowledge_item(self, item_id: str, *, role: str, user: str | None = None) -> KnowledgeItem:
        """One item with its history: for a steward (`knowledge.review`) or the one who proposed it."""
        with self._receipt("knowledge.read", role, user, question=f"show {item_id}", route="sql") as receipt:
            item = self.sql.knowledge.get(item_id)
            if item.proposer != receipt.user:
                self.role(role).require("knowledge.review")
                if not self.sql.reviewable([item], role):  # a custom reviewer role with less access
                    raise NotFound("id", "no knowledge item has this id", item_id)
            receipt.datasets = dict(item.tables)
        return self._visible(role, item)

    @_entry("knowledge.import")
    def knowledge_import(self, path: Path, *, role: str, db: Path | None = None,
                         user: str | None = None) -> ImportReport:
        """Verified pairs from a JSONL file, as approved items (a steward's direct approval, `knowledge.review`);
        with `db`, they belong to that ad-hoc database. Broken, refused or failing lines are listed by number."""
        with self._receipt("knowledge.import", role, user, question=str(path), route="sql",
                           settings=self._sql_settings(db)) as receipt:
            self.role(role).require("knowledge.review")
            limits = Limits(self.settings.input.max_question_chars, self.settings.sql.max_chars,
                            self.settings.input.max_field_chars)
            lines = read_pairs(path, limits)
            report = self.sql.curation.import_pairs(lines, role=role, user=receipt.user, db=db,
                                                    scope=self.sql.scope(db), source=path.name)
            receipt.row_count = report.imported
            receipt.outcome = f"imported {report.imported}, refused {len(report.refused)}"
        return report

    @_entry("knowledge.recheck")
    def knowledge_recheck(self, *, role: str, user: str | None = None) -> list[dict[str, str]]:
        """Every item in use whose tables changed since it was verified, run again as the steward: suspended when
        it fails, flagged when its result changed shape (`datasets add` does this for the tables it changes)."""
        with self._receipt("knowledge.recheck", role, user, question="all changed tables", route="sql") as receipt:
            self.role(role).require("knowledge.review")
            current = {t.name: t.version for t in self.sql.approved.tables()}
            outcomes = self.sql.curation.recheck(current, role, receipt.user)
            recheck_outcome(receipt, outcomes)
        return outcomes

    @_entry("knowledge.read")
    def knowledge_demand(self, *, role: str, user: str | None = None, since: str | None = None,
                         limit: int = 50) -> list[dict[str, Any]]:
        """Questions that failed or were "not available", counted per question (never who asked; personal data
        in the words masked), most asked first: what data and knowledge people need (`knowledge.review`)."""
        with self._receipt("knowledge.read", role, user, question=f"demand since={since}", route="sql") as receipt:
            self.role(role).require("knowledge.review")
            start = parse_since(since).isoformat() if since else None
            receipts = self.audit.recent(action="sql.ask", since=start, limit=DEMAND_SCAN)
            found = demand(receipts)[:limit]
            receipt.row_count = len(found)
        return found


_URGENCY = {"proposed": 0, "suspended": 1, "flagged": 2}


def _number(item_id: str) -> int:
    return int(item_id[1:]) if re.fullmatch(r"k\d+", item_id) else 0


def _draft(kind: str, question: str, sql: str, term: str, text: str, tables: list[str],
           expires: str | None) -> KnowledgeItem:
    """A proposal as an item, with the fields its kind needs."""
    needs = {"pair": (("question", question), ("sql", sql)), "term": (("term", term), ("text", text)),
             "note": (("text", text),)}
    if kind not in needs:
        raise FieldError("kind", f"expected one of: {', '.join(KINDS)}", kind)
    for name, value in needs[kind]:
        if not value.strip():
            raise FieldError(name, f"a {kind} needs it")
    names = {t.strip().lower(): "" for t in tables if t.strip()}
    return KnowledgeItem("", kind, question=question.strip(), term=term.strip(), text=text.strip(), sql=sql.strip(),
                         tables=names, expires=expiry(expires))


def recheck_outcome(receipt: "Receipt", outcomes: list[dict[str, str]]) -> None:
    counts = Counter(o["status"] for o in outcomes)
    receipt.row_count = len(outcomes)
    receipt.outcome = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to re-check"
    receipt.sources = [f"knowledge:{o['id']}" for o in outcomes]


_NOT_AVAILABLE = ("not available to your role", "no approved tables for role")


def demand(receipts: list["Receipt"]) -> list[dict[str, Any]]:
    """sql.ask receipts that ended in an error (or a refusal for want of tables), grouped by the question's
    words: [{"question", "count", "kind": "not available" | "failed", "last"}], most asked first. Users are
    never read; personal data in a question is masked."""
    groups: dict[str, dict[str, Any]] = {}
    for receipt in receipts:
        outcome = receipt.outcome
        unavailable = any(mark in outcome for mark in _NOT_AVAILABLE)
        if not (outcome.startswith("error:") or unavailable) or not receipt.question.strip():
            continue
        key = re.sub(r"\s+", " ", receipt.question).strip().lower().rstrip("?？。.! ")
        entry = groups.setdefault(key, {"question": pii.mask_text(receipt.question.strip())[0], "count": 0,
                                        "kind": "failed", "last": ""})
        entry["count"] += 1
        entry["kind"] = "not available" if unavailable else entry["kind"]
        entry["last"] = max(entry["last"], receipt.time[:10])
    return sorted(groups.values(), key=lambda e: (-e["count"], e["question"]))
