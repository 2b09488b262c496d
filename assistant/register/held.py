"""Passages held at ingest for instruction-like text (ingest/injection.py), and the steward's review of them.

A held passage is stored but no search reads it, for any role, until a steward releases it. The decision is a
row in GOVDATA_HOME/register/decisions.json, or the shared state's `decisions` table (beside the grading decisions,
kind `held_passage`), that every passage search reads, so it holds at once and survives re-ingest. A passage's id
comes from its text, so an edited passage is a new one and is held again if it still matches a rule.
"""

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from assistant.register.grading import DecisionStore, Suggestion, as_store

HELD_KIND = "held_passage"
PENDING, RELEASED, KEPT = "pending", "released", "kept"
STATUSES = (PENDING, RELEASED, KEPT)


@dataclass(frozen=True)
class HeldPassage:
    """One held passage: where it is from, the rule and words that held it, its text and the steward's status."""

    id: str
    source: str
    title: str
    article: str
    heading_path: str
    access_level: str
    rule: str
    match: str
    text: str
    status: str = PENDING

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def decision_id(passage_id: str) -> str:
    """The decision's id in decisions.json (grading suggestions use `g…` ids, so the two never collide)."""
    return f"held:{passage_id}"


def held_passage(item_id: str, text: str, payload: dict[str, Any], decided: dict[str, str]) -> HeldPassage:
    """A held passage as the content table stores it, with its review status."""
    def field(key: str) -> str:
        return str(payload.get(key) or "")

    return HeldPassage(id=item_id, source=field("source"), title=field("title"), article=field("article"),
                       heading_path=field("heading_path"), access_level=field("access_level"),
                       rule=field("held_rule"), match=field("held_match"), text=text,
                       status=decided.get(decision_id(item_id), PENDING))


def held_passages(rows: Iterable[tuple[str, str, dict[str, Any]]], decided: dict[str, str]) -> list[HeldPassage]:
    """Held passages, those still waiting for a steward first, then by source and position in it."""
    found = [(held_passage(item_id, text, payload, decided), int(payload.get("position") or 0))
             for item_id, text, payload in rows if payload.get("held")]
    return [p for p, _ in sorted(found, key=lambda f: (f[0].status != PENDING, f[0].source, f[1], f[0].id))]


def record_review(decisions: DecisionStore, passage: HeldPassage, release: bool, user: str, role: str) -> HeldPassage:
    """Write the steward's decision (released: searches include the passage again; kept: it stays held)."""
    status = RELEASED if release else KEPT
    evidence = {"rule": passage.rule, "match": passage.match, "source": passage.source}
    decisions.record(Suggestion(decision_id(passage.id), passage.id, HELD_KIND, "held", status, evidence), status,
                     user, role)
    return replace(passage, status=status)


def released_passages(decisions: DecisionStore | Path) -> tuple[str, ...]:
    """Ids of the held passages a steward released, for the passage searches' filter."""
    return tuple(sorted(d["target"] for d in as_store(decisions).all()
                        if d.get("kind") == HELD_KIND and d.get("status") == RELEASED))
