"""The Audit tab: receipts (filtered by user and time) and the chain check, for roles with `audit.read`."""

from typing import Any

from assistant.errors import GovDataError
from assistant.services import Services
from assistant.ui.common import Caller, error_markdown, frame
from assistant.ui.render import RECEIPT_COLUMNS, esc, receipt_rows
from assistant.ui.text import text


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
