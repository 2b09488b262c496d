"""The Knowledge tab (data stewards, issue 32): the queue of proposed, suspended and flagged items to approve or
reject with a reason, and the demand (failed and "not available" questions, counted). `propose` is the handler
the workbench and the Ask tab call for "This SQL is right"."""

from typing import TYPE_CHECKING, Any

from assistant.services import Services
from assistant.ui.common import Caller, error_markdown, frame
from assistant.ui.render import esc
from assistant.ui.text import text
from core.errors import GovDataError

if TYPE_CHECKING:
    from assistant.ui.page import Page

ITEM_COLUMNS = ["id", "status", "kind", "question / term / note", "sql", "tables", "proposer", "reason"]
DEMAND_COLUMNS = ["question", "count", "kind", "last asked"]
STATUS_CHOICES = ["", "proposed", "approved", "suspended", "flagged", "rejected", "expired"]


def propose(assistant: Services, caller: Caller, question: str, sql: str, lang: str) -> str:
    """Propose a question and the SQL the user says is right (as written, or corrected in the box) as a pair."""
    if not question.strip() or not sql.strip():
        return text("knowledge_need_both", lang)
    try:
        item = assistant.knowledge_propose("pair", question=question, sql=sql, role=caller.role, user=caller.user)
    except GovDataError as exc:
        return error_markdown(exc, lang)
    return text("knowledge_proposed", lang, id=esc(item.id))


def queue(assistant: Services, caller: Caller, status: str, lang: str) -> tuple[Any, str]:
    """The items (those waiting for a decision first), with the filter of `govdata knowledge list`."""
    try:
        items = assistant.knowledge_items(role=caller.role, user=caller.user, status=status or None)
    except GovDataError as exc:
        return None, _refused(assistant, caller, exc, lang)
    rows = [[i.id, i.state(), i.kind, i.subject[:300], i.sql[:400], ", ".join(i.tables), i.proposer, i.reason[:300]]
            for i in items[:500]]
    waiting = sum(i.state() in ("proposed", "suspended", "flagged") for i in items)
    return frame(ITEM_COLUMNS, rows), text("knowledge_count", lang, n=len(items), waiting=waiting)


def decide(assistant: Services, caller: Caller, item_id: str, reason: str, status: str, approve: bool,
           lang: str) -> tuple[Any, str]:
    """Approve or reject one item, then show the queue again."""
    try:
        item = assistant.knowledge_review(item_id.strip(), approve=approve, reason=reason, role=caller.role,
                                          user=caller.user)
    except GovDataError as exc:
        table, _ = queue(assistant, caller, status, lang)
        return table, _refused(assistant, caller, exc, lang)
    table, _ = queue(assistant, caller, status, lang)
    return table, text("knowledge_approved" if approve else "knowledge_rejected", lang, id=esc(item.id))


def demand(assistant: Services, caller: Caller, lang: str) -> tuple[Any, str]:
    """What people asked that failed or was not available, most asked first (counts, never who)."""
    try:
        found = assistant.knowledge_demand(role=caller.role, user=caller.user)
    except GovDataError as exc:
        return None, _refused(assistant, caller, exc, lang)
    rows = [[d["question"], d["count"], d["kind"], d["last"]] for d in found]
    return frame(DEMAND_COLUMNS, rows), text("demand_count", lang, n=len(found))


def _refused(assistant: Services, caller: Caller, exc: GovDataError, lang: str) -> str:
    if not assistant.allowed(caller.role, "knowledge.review"):
        return text("knowledge_only", lang)
    return error_markdown(exc, lang)


def layout(page: "Page") -> Any:
    """The Knowledge tab (data stewards): the queue with Approve and Reject, and the demand table; the queue is
    listed whenever the tab is opened."""
    import gradio as gr

    add = page.labels.add
    with gr.Tab(text("tab_knowledge"), id="knowledge", elem_id="tab-knowledge", visible=False) as tab:
        with gr.Row():
            status = add(gr.Dropdown(STATUS_CHOICES, value="", label=text("knowledge_status"),
                                     elem_id="knowledge-status"), "knowledge_status")
            show = add(gr.Button(text("knowledge_show"), elem_id="knowledge-show"), "knowledge_show", "value")
        line = gr.Markdown(elem_id="knowledge-line")
        table = add(gr.Dataframe(label=text("knowledge_table"), elem_id="knowledge-table", interactive=False,
                                 wrap=True, max_height=500), "knowledge_table")
        with gr.Row():
            chosen = add(gr.Textbox(label=text("knowledge_id"), elem_id="knowledge-id", scale=1), "knowledge_id")
            reason = add(gr.Textbox(label=text("knowledge_reason"), elem_id="knowledge-reason", scale=3),
                         "knowledge_reason")
            approve = add(gr.Button(text("knowledge_approve"), variant="primary", elem_id="knowledge-approve",
                                    scale=1), "knowledge_approve", "value")
            reject = add(gr.Button(text("knowledge_reject"), elem_id="knowledge-reject", scale=1),
                         "knowledge_reject", "value")
        wanted = add(gr.Button(text("demand_show"), elem_id="demand-show"), "demand_show", "value")
        demand_line = gr.Markdown(elem_id="demand-line")
        demand_table = add(gr.Dataframe(label=text("demand_table"), elem_id="demand-table", interactive=False,
                                        wrap=True), "demand_table")
    for trigger, name in ((show.click, "knowledge_queue"), (tab.select, "knowledge_tab")):
        trigger(page.bound(queue), [status, page.lang], [table, line], api_name=name, **page.fast_queue)
    for button, verdict, name in ((approve, True, "knowledge_approve"), (reject, False, "knowledge_reject")):
        button.click(page.bound(decide, approve=verdict), [chosen, reason, status, page.lang], [table, line],
                     api_name=name, **page.fast_queue)
    wanted.click(page.bound(demand), page.lang, [demand_table, demand_line], api_name="knowledge_demand",
                 **page.fast_queue)
    return tab
