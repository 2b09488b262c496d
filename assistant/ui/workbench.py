"""The SQL workbench: write SQL from a question, check it, run it; pages, charts and a CSV of the result."""

import os
import tempfile
from typing import Any

import gradio as gr

from assistant.csvsafe import to_csv
from assistant.errors import GovDataError
from assistant.services import Services
from assistant.sql.chart import pick_chart
from assistant.sql.guard import SqlRejected, withheld_list
from assistant.ui.common import Caller, error_markdown, frame, receipt_block
from assistant.ui.render import esc, page_of, uncertainty_markdown, withheld_markdown
from assistant.ui.text import text


def check(assistant: Services, caller: Caller, sql: str, lang: str) -> str:
    try:
        verdict = assistant.sql_check(sql, role=caller.role, user=caller.user)
    except GovDataError as exc:
        return error_markdown(exc, lang)
    line = text("allowed" if verdict.allowed else "rejected", lang) + ": " + esc(verdict.reason)
    withheld = withheld_markdown(withheld_list(verdict.query.withheld) if verdict.query else [], lang)
    return f"{line}\n\n{withheld}" if withheld else line


def run(assistant: Services, caller: Caller, sql: str, lang: str) -> tuple[Any, ...]:
    """The verdict line, then the result outputs (state, page, label, chart, axes, plots, CSV)."""
    try:
        result = assistant.sql_run(sql, role=caller.role, user=caller.user)
    except SqlRejected as rejected:
        return f"{text('rejected', lang)}: {esc(rejected.reason)}", *no_result()
    except GovDataError as exc:
        return error_markdown(exc, lang), *no_result()
    note = text("rows", lang, n=result.row_count) + (text("row_cap", lang) if result.truncated else "")
    shown = "\n\n".join(p for p in (note, withheld_markdown(result.withheld, lang),
                                      receipt_block(assistant, caller, result.receipt_id, lang)) if p)
    return shown, *result_outputs(result.columns, result.rows, lang, result.receipt_id)


def generate(assistant: Services, caller: Caller, question: str, dataset: str, lang: str) -> tuple[Any, ...]:
    """The SQL, the verdict line, the explanation (with any doubt or notice), then the result outputs."""
    try:
        answer = assistant.sql_ask(question, role=caller.role, user=caller.user, dataset=dataset or None)
    except GovDataError as exc:
        return "", error_markdown(exc, lang), "", *no_result()
    if answer.error:
        return answer.sql, f"{text('error', lang)}: {esc(answer.error)}", esc(answer.explanation), *no_result()
    versions = ", ".join(f"{k}@{v}" for k, v in answer.dataset_versions.items())
    doubt = uncertainty_markdown(answer, lang)
    withheld = withheld_markdown(answer.withheld, lang)
    return (answer.sql, text("allowed_run", lang, n=answer.row_count) + (f"\n\n{withheld}" if withheld else ""),
            (f"{doubt}\n\n" if doubt else "")
            + f"{esc(answer.explanation)}\n\n{text('datasets_used', lang)}: {esc(versions)}"
            + _with_receipt(receipt_block(assistant, caller, answer.receipt_id, lang)),
            *result_outputs(answer.columns, answer.rows, lang, answer.receipt_id))


def turn_page(result: dict[str, Any] | None, step: int, lang: str) -> tuple[Any, ...]:
    if not result:
        return None, None, ""
    return result, *page_outputs(result, result.get("page", 0) + step, lang)


def csv_file(columns: list[str], rows: list[list[Any]]) -> str:
    """The result as formula-safe CSV (assistant/csvsafe.py) in the private cache, readable only by this account
    (mkstemp's mode 600)."""
    with tempfile.NamedTemporaryFile("w", suffix=".csv", prefix="govdata-result-", delete=False,
                                     encoding="utf-8", dir=os.environ.get("GRADIO_TEMP_DIR")) as handle:
        handle.write(to_csv(columns, rows))
    return handle.name


def charts(result: dict[str, Any] | None, kind: str, x: str | None, y: str | None) -> tuple[Any, Any, Any]:
    """The bar, line and scatter plots: only `kind` is shown, over the whole result, on the chosen axes."""
    columns = (result or {}).get("columns", [])
    if not result or x not in columns or y not in columns or kind == "none":
        return gr.update(visible=False), gr.update(visible=False), gr.update(visible=False)
    table = frame(result["columns"], result["rows"])

    def shown(name: str) -> Any:
        if name != kind:
            return gr.update(visible=False)
        extra: dict[str, Any] = {}
        if name == "bar" and table[y].dtype.kind in "iuf" and len(table):
            extra["y_lim"] = [0, float(table[y].max() or 0) * 1.1 or 1]  # bars start at zero
        return gr.update(value=table, x=x, y=y, visible=True, **extra)

    return shown("bar"), shown("line"), shown("scatter")


def result_outputs(columns: list[str], rows: list[list[Any]], lang: str,
                   receipt_id: int | None = None) -> tuple[Any, ...]:
    """State (with the result's receipt), first page, page label, the automatic chart with its axes, and the
    CSV of every row."""
    result = {"columns": columns, "rows": rows, "page": 0, "receipt_id": receipt_id}
    spec = pick_chart(columns, rows)
    kind, x, y = (spec.kind, spec.x, spec.y) if spec else ("none", columns[0] if columns else None,
                                                           columns[1] if len(columns) > 1 else None)
    axes = [gr.update(choices=columns, value=x), gr.update(choices=columns, value=y)]
    return (result, *page_outputs(result, 0, lang), kind, *axes, *charts(result, kind, x, y),
            csv_file(columns, rows))


def page_outputs(result: dict[str, Any] | None, page: int, lang: str) -> tuple[Any, str]:
    if not result:
        return None, ""
    page, rows, first, last = page_of(result["rows"], page)
    result["page"] = page
    return frame(result["columns"], rows), text("page", lang, first=first, last=last, total=len(result["rows"]))


def no_result() -> tuple[Any, ...]:
    hidden = gr.update(visible=False)
    return None, None, "", "none", gr.update(choices=[], value=None), gr.update(choices=[], value=None), \
        hidden, hidden, hidden, None


def last_receipt(result: dict[str, Any] | None) -> int | None:
    return result.get("receipt_id") if result else None


def _with_receipt(receipt: str) -> str:
    return f"\n\n{receipt}" if receipt else ""
