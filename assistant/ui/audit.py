"""The Audit tab: receipts (filtered by user and time) and the chain check, for roles with `audit.read`."""

from typing import TYPE_CHECKING, Any

from assistant.services import Services
from assistant.ui.common import Caller, error_markdown, frame
from assistant.ui.render import RECEIPT_COLUMNS, esc, receipt_rows
from assistant.ui.text import text
from core.errors import GovDataError

if TYPE_CHECKING:
    from assistant.ui.page import Page


def receipts(assistant: Services, caller: Caller, user: str, since: str, lang: str) -> tuple[Any, str]:
    try:
        found = assistant.audit_receipts(role=caller.role, user=caller.user, of_user=user or None,
                                         since=since or None, limit=200)
    except GovDataError as exc:  # a refusal is on the log too
        return None, _refused(assistant, caller, exc, lang)
    return frame(RECEIPT_COLUMNS, receipt_rows(found)), ""


def verify_chain(assistant: Services, caller: Caller, lang: str) -> str:
    try:
        result, _ = assistant.audit_verify(role=caller.role, user=caller.user)
    except GovDataError as exc:
        return _refused(assistant, caller, exc, lang)
    if result.ok:
        return text("audit_ok", lang, n=result.entries, head=f"{result.head_id} {result.head_hash[:16]}…")
    return text("audit_bad", lang, id=result.first_bad_id, problem=esc(result.problem))


def replay(assistant: Services, caller: Caller, receipt_id: Any, lang: str) -> str:
    """Re-run a receipt's SQL at its recorded data versions and say whether the rows are the same."""
    if (number := _receipt_number(receipt_id)) is None:
        return text("receipt_none", lang)
    try:
        report = assistant.audit_replay(number, role=caller.role, user=caller.user)
    except GovDataError as exc:
        return _refused(assistant, caller, exc, lang)
    if report["status"] == "version_changed":
        changed = ", ".join(f"{name} {v['recorded']} → {v['now'] or '-'}" for name, v in report["changed"].items())
        return text("replay_changed", lang, id=number, changed=esc(changed))
    key = "replay_same" if report["status"] == "same" else "replay_different"
    return text(key, lang, id=number, rows=report["row_count"], recorded=report["recorded_row_count"],
                new=report["replay_receipt_id"])


def verify_receipt(assistant: Services, caller: Caller, receipt_id: Any, lang: str) -> str:
    """Whether the receipt is on the log and the whole chain is unbroken (tampering anywhere is reported)."""
    if (number := _receipt_number(receipt_id)) is None:
        return text("receipt_none", lang)
    try:
        result, _ = assistant.audit_verify(role=caller.role, user=caller.user)
        receipt = assistant.audit_receipt(number, role=caller.role, user=caller.user)
    except GovDataError as exc:
        return _refused(assistant, caller, exc, lang)
    if result.ok:
        return text("receipt_verified", lang, id=number, hash=receipt.hash[:16], n=result.entries)
    return text("audit_bad", lang, id=result.first_bad_id, problem=esc(result.problem))


def _receipt_number(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _refused(assistant: Services, caller: Caller, exc: GovDataError, lang: str) -> str:
    return text("audit_only", lang) if not assistant.allowed(caller.role, "audit.read") else error_markdown(exc, lang)


def layout(page: "Page") -> Any:
    """The Audit tab (data stewards): recent receipts by user and date, the chain check, and Replay/Verify for any
    receipt number; refreshed whenever the tab is opened."""
    import gradio as gr

    add = page.labels.add
    with gr.Tab(text("tab_audit"), id="audit", elem_id="tab-audit", visible=False) as tab:
        with gr.Row():
            user = add(gr.Textbox(label=text("audit_user"), elem_id="audit-user"), "audit_user")
            since = add(gr.Textbox(label=text("audit_since"), elem_id="audit-since"), "audit_since")
        with gr.Row():
            refresh = add(gr.Button(text("audit_refresh"), elem_id="audit-refresh"), "audit_refresh", "value")
            verify = add(gr.Button(text("audit_verify"), elem_id="audit-verify"), "audit_verify", "value")
        status = gr.Markdown(elem_id="audit-status")
        with gr.Row():
            number = add(gr.Number(label=text("receipt_number"), elem_id="audit-receipt", minimum=1, precision=0,
                                   value=None), "receipt_number")
        page.receipt_tools("audit", number, lambda value: value, visible=True)
        table = gr.Dataframe(elem_id="audit-table", interactive=False, max_height=600, wrap=True)
    for trigger in (refresh.click, tab.select):
        trigger(page.bound(receipts), [user, since, page.lang], [table, status], **page.fast_queue)
    verify.click(page.bound(verify_chain), page.lang, status, **page.fast_queue)
    return tab
