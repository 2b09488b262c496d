"""The Register tab (data stewards): the resource register with quality scores, grading suggestions to accept or
reject, and the disclosure report. Every handler asks Services, which refuses other roles (and records it)."""

import os
import tempfile
from typing import TYPE_CHECKING, Any

from assistant.register.entries import RegisterFilter
from assistant.register.grading import describe_evidence
from assistant.services import Services
from assistant.ui.common import Caller, error_markdown, frame
from assistant.ui.text import text
from core.access import ACCESS_LEVELS
from core.errors import FieldError, GovDataError

if TYPE_CHECKING:
    from assistant.ui.page import Page

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


def layout(page: "Page") -> Any:
    """The Register tab (data stewards): the register, grading suggestions to accept or reject, the passages held
    for review, and the disclosure report; the register is listed whenever the tab is opened."""
    import gradio as gr

    add = page.labels.add
    with gr.Tab(text("tab_register"), id="register", elem_id="tab-register", visible=False) as tab:
        with gr.Row():
            publisher = add(gr.Textbox(label=text("publisher"), elem_id="register-publisher"), "publisher")
            level = add(gr.Dropdown(label=text("access_level"), elem_id="register-level", value="",
                                    choices=[("", ""), *[(lv, lv) for lv in ACCESS_LEVELS]]), "access_level")
            most = add(gr.Number(label=text("register_max_score"), elem_id="register-max", minimum=0, maximum=100,
                                 precision=0, value=100), "register_max_score")
            stale = add(gr.Checkbox(label=text("register_stale"), elem_id="register-stale"), "register_stale")
        show = add(gr.Button(text("register_show"), elem_id="register-show"), "register_show", "value")
        status = gr.Markdown(elem_id="register-status")
        table = add(gr.Dataframe(label=text("register_table"), elem_id="register-table", interactive=False,
                                 max_height=500, wrap=True), "register_table")
        _grading_layout(page)
        _held_layout(page)
        _disclosure_layout(page)
    for trigger in (show.click, tab.select):
        trigger(page.bound(entries, "register_entries"), [publisher, level, most, stale, page.lang], [table, status],
                **page.fast_queue)
    return tab


def _grading_layout(page: "Page") -> None:
    import gradio as gr

    add = page.labels.add
    with gr.Row():
        target = add(gr.Textbox(label=text("target"), elem_id="grade-target", scale=3), "target")
        suggest = add(gr.Button(text("grade_suggest"), elem_id="grade-suggest", scale=1), "grade_suggest", "value")
    table = add(gr.Dataframe(label=text("grade_table"), elem_id="grade-table", interactive=False, wrap=True),
                "grade_table")
    with gr.Row():
        chosen = add(gr.Textbox(label=text("suggestion"), elem_id="grade-id", scale=3), "suggestion")
        accept = add(gr.Button(text("grade_accept"), variant="primary", elem_id="grade-accept", scale=1),
                     "grade_accept", "value")
        reject = add(gr.Button(text("grade_reject"), elem_id="grade-reject", scale=1), "grade_reject", "value")
    status = gr.Markdown(elem_id="grade-status")
    for trigger in (suggest.click, target.submit):
        trigger(page.bound(suggestions, "grade"), [target, page.lang], [table, status], **page.fast_queue)
    for button, verdict, name in ((accept, True, "accept"), (reject, False, "reject")):
        button.click(page.bound(decide, name, accept=verdict), [target, chosen, page.lang], [table, status],
                     **page.fast_queue)


def _held_layout(page: "Page") -> None:
    import gradio as gr

    add = page.labels.add
    show = add(gr.Button(text("held_show"), elem_id="held-show"), "held_show", "value")
    status = gr.Markdown(elem_id="held-status")
    table = add(gr.Dataframe(label=text("held_table"), elem_id="held-table", interactive=False, wrap=True),
                "held_table")
    with gr.Row():
        chosen = add(gr.Textbox(label=text("held_id"), elem_id="held-id", scale=3), "held_id")
        release = add(gr.Button(text("held_release"), elem_id="held-release", scale=1), "held_release", "value")
        keep = add(gr.Button(text("held_keep"), elem_id="held-keep", scale=1), "held_keep", "value")
    show.click(page.bound(held, "held"), page.lang, [table, status], **page.fast_queue)
    for button, verdict, name in ((release, True, "release_held"), (keep, False, "keep_held")):
        button.click(page.bound(review, name, release=verdict), [chosen, page.lang], [table, status],
                     **page.fast_queue)


def _disclosure_layout(page: "Page") -> None:
    import gradio as gr

    add = page.labels.add
    build = add(gr.Button(text("disclosure_button"), elem_id="disclosure-build"), "disclosure_button", "value")
    report = add(gr.File(label=text("disclosure_file"), elem_id="disclosure-file"), "disclosure_file")
    status = gr.Markdown(elem_id="disclosure-status")
    build.click(page.bound(disclosure, "disclose"), page.lang, [report, status], **page.fast_queue)
