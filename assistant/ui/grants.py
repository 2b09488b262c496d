"""The Access tab (issue 33): a member of an organisation sees its grants and requests and asks for access to a
dataset; a steward works the queue of pending requests, approving (possibly narrowed) or rejecting with a reason.
Every handler asks Services, which checks the caller (their organisation, `grants.manage`) and leaves a receipt."""

from typing import TYPE_CHECKING, Any

from assistant.services import Services
from assistant.ui.common import Caller, error_markdown, frame
from assistant.ui.text import text
from core.errors import GovDataError

if TYPE_CHECKING:
    from assistant.ui.page import Page

GRANT_COLUMNS = ["id", "state", "organisation", "scope", "target", "columns", "rows", "from", "until",
                 "purpose"]
REQUEST_COLUMNS = ["id", "status", "organisation", "user", "target", "columns", "rows", "from", "until",
                   "purpose", "decision"]


def mine(assistant: Services, caller: Caller, lang: str) -> tuple[Any, Any, str]:
    """The grants and requests the caller may read: their organisation's, or every one for a steward."""
    try:
        grants = assistant.grants(role=caller.role, user=caller.user)
        asked = assistant.requests(role=caller.role, user=caller.user)
    except GovDataError as exc:
        return None, None, error_markdown(exc, lang)
    return grant_frame(grants), request_frame(asked), text("access_count", lang, grants=len(grants), n=len(asked))


def ask_access(assistant: Services, caller: Caller, dataset: str, purpose: str, until: str, columns: str, rows: str,
               lang: str) -> tuple[Any, str]:
    """Ask for access to one dataset for the caller's organisation; the requests again, with the new one."""
    try:
        made = assistant.request_grant(dataset.strip(), purpose=purpose, until=until, columns=columns or None,
                                       rows=rows or None, role=caller.role, user=caller.user)
    except GovDataError as exc:
        return None, error_markdown(exc, lang)
    asked = assistant.requests(role=caller.role, user=caller.user)
    return request_frame(asked), text("access_requested", lang, id=made["id"])


def queue(assistant: Services, caller: Caller, lang: str) -> tuple[Any, str]:
    """The pending requests, oldest first (stewards)."""
    try:
        pending = assistant.requests(role=caller.role, user=caller.user, status="pending")
        if not assistant.allowed(caller.role, "grants.manage"):
            raise GovDataError(f"role {caller.role!r} may not decide requests for access")
    except GovDataError as exc:
        return None, error_markdown(exc, lang)
    return request_frame(pending), text("queue_count", lang, n=len(pending))


def approve(assistant: Services, caller: Caller, request_id: str, until: str, columns: str, rows: str, note: str,
            lang: str) -> tuple[Any, str]:
    """Approve a request as a grant, narrowed by any columns, rows or shorter term given; the queue again."""
    try:
        grant = assistant.approve_request(request_id.strip(), until=until or None, columns=columns or None,
                                          rows=rows or None, note=note or None, role=caller.role, user=caller.user)
    except GovDataError as exc:
        return None, error_markdown(exc, lang)
    table, _ = queue(assistant, caller, lang)
    return table, text("request_approved", lang, id=request_id.strip(), grant=grant["id"])


def reject(assistant: Services, caller: Caller, request_id: str, note: str, lang: str) -> tuple[Any, str]:
    try:
        assistant.reject_request(request_id.strip(), reason=note, role=caller.role, user=caller.user)
    except GovDataError as exc:
        return None, error_markdown(exc, lang)
    table, _ = queue(assistant, caller, lang)
    return table, text("request_rejected", lang, id=request_id.strip())


def grant_frame(grants: list[dict[str, Any]]) -> Any:
    return frame(GRANT_COLUMNS, [[g["id"], g["state"], g["org"], g["scope"], g["target"], ", ".join(g["columns"]),
                                  g["rows"], g["start"], g["until"], g["purpose"]] for g in grants])


def request_frame(asked: list[dict[str, Any]]) -> Any:
    return frame(REQUEST_COLUMNS, [[r["id"], r["status"], r["org"], r["user"], r["target"], ", ".join(r["columns"]),
                                    r["rows"], r["start"], r["until"], r["purpose"],
                                    " ".join(p for p in (r["grant"], r["reason"]) if p)] for r in asked])


def layout(page: "Page") -> Any:
    """The Access tab: the caller's grants and requests, the request form, and (for stewards, shown by the page on
    sign-in) the queue with its decisions; `page.parts` gets the queue panel."""
    import gradio as gr

    add = page.labels.add
    with gr.Tab(text("tab_access"), id="access", elem_id="tab-access", visible=False) as tab:
        show = add(gr.Button(text("access_show"), elem_id="access-show"), "access_show", "value")
        status = gr.Markdown(elem_id="access-status")
        grants = add(gr.Dataframe(label=text("access_grants"), elem_id="access-grants", interactive=False,
                                  wrap=True), "access_grants")
        asked = add(gr.Dataframe(label=text("access_requests"), elem_id="access-requests", interactive=False,
                                 wrap=True), "access_requests")
        with gr.Row():
            dataset = add(gr.Textbox(label=text("dataset_id"), elem_id="access-dataset", scale=2), "dataset_id")
            purpose = add(gr.Textbox(label=text("purpose"), elem_id="access-purpose", scale=3), "purpose")
            until = add(gr.Textbox(label=text("until"), placeholder="YYYY-MM-DD", elem_id="access-until", scale=1),
                        "until")
        with gr.Row():
            columns = add(gr.Textbox(label=text("columns"), elem_id="access-columns"), "columns")
            rows = add(gr.Textbox(label=text("grant_rows"), elem_id="access-rows"), "grant_rows")
        request = add(gr.Button(text("access_request"), variant="primary", elem_id="access-request"),
                      "access_request", "value")
        panel = _queue_layout(page)
    for trigger in (show.click, tab.select):
        trigger(page.bound(mine, "grants_mine"), page.lang, [grants, asked, status], **page.fast_queue)
    request.click(page.bound(ask_access, "request_access"), [dataset, purpose, until, columns, rows, page.lang],
                  [asked, status], **page.fast_queue)
    page.parts.update(access_queue=panel)
    return tab


def _queue_layout(page: "Page") -> Any:
    import gradio as gr

    add = page.labels.add
    with gr.Column(visible=False, elem_id="access-queue") as panel:
        add(gr.Markdown(text("queue_title"), elem_id="queue-title"), "queue_title", "value")
        show = add(gr.Button(text("queue_show"), elem_id="queue-show"), "queue_show", "value")
        status = gr.Markdown(elem_id="queue-status")
        table = add(gr.Dataframe(label=text("queue_table"), elem_id="queue-table", interactive=False, wrap=True),
                    "queue_table")
        with gr.Row():
            chosen = add(gr.Textbox(label=text("request_id"), elem_id="queue-id", scale=1), "request_id")
            until = add(gr.Textbox(label=text("narrow_until"), placeholder="YYYY-MM-DD", elem_id="queue-until",
                                   scale=1), "narrow_until")
            columns = add(gr.Textbox(label=text("narrow_columns"), elem_id="queue-columns", scale=2),
                          "narrow_columns")
            rows = add(gr.Textbox(label=text("narrow_rows"), elem_id="queue-rows", scale=2), "narrow_rows")
        note = add(gr.Textbox(label=text("decision_note"), elem_id="queue-note"), "decision_note")
        with gr.Row():
            yes = add(gr.Button(text("request_approve"), variant="primary", elem_id="queue-approve"),
                      "request_approve", "value")
            no = add(gr.Button(text("request_reject"), elem_id="queue-reject"), "request_reject", "value")
    show.click(page.bound(queue, "grant_queue"), page.lang, [table, status], **page.fast_queue)
    yes.click(page.bound(approve, "approve_request"), [chosen, until, columns, rows, note, page.lang],
              [table, status], **page.fast_queue)
    no.click(page.bound(reject, "reject_request"), [chosen, note, page.lang], [table, status], **page.fast_queue)
    return panel
