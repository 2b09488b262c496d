"""The Register tab (data stewards): the resource register with quality scores, grading suggestions to accept or
reject, and the disclosure report. Every handler asks Services, which refuses other roles (and records it)."""

import os
import tempfile
from typing import Any

from assistant.errors import FieldError, GovDataError
from assistant.register.entries import RegisterFilter
from assistant.register.grading import describe_evidence
from assistant.services import Services
from assistant.ui.common import Caller, error_markdown, frame
from assistant.ui.text import text

ENTRY_COLUMNS = ["score", "stale", "kind", "id", "title", "publisher", "access level", "first reason"]
SUGGESTION_COLUMNS = ["id", "status", "kind", "target", "current", "suggested", "evidence"]
HELD_COLUMNS = ["id", "status", "rule", "words", "source", "article", "text"]


def entries(assistant: Services, caller: Caller, publisher: str, level: str, max_score: float | None,
            stale_only: bool, lang: str) -> tuple[Any, str]:
    """The register, lowest score first, with the filters of `govdata register list`."""
    try:
        where = RegisterFilter(publisher=publisher or None, access_level=level or None,
                               max_score=int(max_score) if max_score is not None else None,
                               stale=True if stale_only else None)
        found = assistant.register_entries(role=caller.role, user=caller.user, where=where)
    except GovDataError as exc:
        return None, _refused(assistant, caller, exc, lang)
    rows = [[e.quality.score, "stale" if e.quality.stale else "", e.resource.kind, e.resource.id, e.resource.title,
             e.resource.publisher, e.resource.access_level, e.quality.losses[0].reason if e.quality.losses else ""]
            for e in found[:500]]
    return frame(ENTRY_COLUMNS, rows), text("register_count", lang, n=len(found), shown=len(rows))


def suggestions(assistant: Services, caller: Caller, name: str, lang: str) -> tuple[Any, str]:
    try:
        if not name.strip():
            raise FieldError("target", "name an approved table or a catalog record id")
        found = assistant.register_grade(name.strip(), role=caller.role, user=caller.user)
    except GovDataError as exc:
        return None, _refused(assistant, caller, exc, lang)
    rows = [[s.id, s.status, s.kind, s.target, s.current, s.suggested, describe_evidence(s.evidence)] for s in found]
    return frame(SUGGESTION_COLUMNS, rows), text("grade_count", lang, n=len(found))


def decide(assistant: Services, caller: Caller, name: str, suggestion_id: str, accept: bool,
           lang: str) -> tuple[Any, str]:
    """Accept or reject one suggestion, then show the suggestions again with their new status."""
    try:
        decided = assistant.register_decide(name.strip(), suggestion_id.strip(), accept=accept, role=caller.role,
                                            user=caller.user)
    except GovDataError as exc:
        return None, _refused(assistant, caller, exc, lang)
    table, _ = suggestions(assistant, caller, name, lang)
    key = "grade_accepted" if accept else "grade_rejected"
    return table, text(key, lang, id=decided.id, target=decided.target, value=decided.suggested)


def held(assistant: Services, caller: Caller, lang: str) -> tuple[Any, str]:
    """Passages held at ingest for instruction-like text, those waiting for review first (issue 26)."""
    try:
        found = assistant.held_passages(role=caller.role, user=caller.user)
    except GovDataError as exc:
        return None, _refused(assistant, caller, exc, lang)
    rows = [[p.id, p.status, p.rule, p.match, p.title or p.source, p.article or p.heading_path, p.text[:400]]
            for p in found[:500]]
    pending = sum(p.status == "pending" for p in found)
    return frame(HELD_COLUMNS, rows), text("held_count", lang, n=len(found), pending=pending)


def review(assistant: Services, caller: Caller, passage_id: str, release: bool, lang: str) -> tuple[Any, str]:
    """Release or keep one held passage, then list them again with the new status."""
    try:
        decided = assistant.review_held(passage_id.strip(), release=release, role=caller.role, user=caller.user)
    except GovDataError as exc:
        return None, _refused(assistant, caller, exc, lang)
    table, _ = held(assistant, caller, lang)
    return table, text("held_released" if release else "held_kept", lang, id=decided.id)


def disclosure(assistant: Services, caller: Caller, lang: str) -> tuple[str | None, str]:
    """The disclosure report as one HTML page to download (in the private cache, mode 600)."""
    from assistant.register.disclosure import to_html

    try:
        report = assistant.disclose(role=caller.role, user=caller.user)
    except GovDataError as exc:
        return None, _refused(assistant, caller, exc, lang)
    with tempfile.NamedTemporaryFile("w", suffix=".html", prefix="disclosure-", delete=False, encoding="utf-8",
                                     dir=os.environ.get("GRADIO_TEMP_DIR")) as handle:
        handle.write(to_html(report))
    return handle.name, text("disclosure_ready", lang, n=report["requests"])


def _refused(assistant: Services, caller: Caller, exc: GovDataError, lang: str) -> str:
    if not assistant.allowed(caller.role, "register.read"):
        return text("register_only", lang)
    return error_markdown(exc, lang)
