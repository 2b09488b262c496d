"""The SQL workbench: write SQL from a question, check it, run it; pages, charts and a CSV of the result."""

import os
import tempfile
from typing import TYPE_CHECKING, Any

import gradio as gr

from assistant.csvsafe import to_csv
from assistant.services import Services
from assistant.sql.chart import pick_chart
from assistant.sql.guard import SqlRejected, withheld_list
from assistant.sql.sdc import is_suppressed
from assistant.ui import knowledge as knowledge_tab
from assistant.ui.common import Caller, caller_of, error_markdown, frame, receipt_block
from assistant.ui.render import esc, knowledge_line, page_of, sdc_markdown, uncertainty_markdown, withheld_markdown
from assistant.ui.text import text
from assistant.ui.walls import remember_granted, remove_copies
from core.errors import GovDataError

if TYPE_CHECKING:
    from assistant.ui.page import Page


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
    shown = "\n\n".join(p for p in (note, withheld_markdown(result.withheld, lang), sdc_markdown(result, lang),
                                      receipt_block(assistant, caller, result.receipt_id, lang)) if p)
    return shown, *result_outputs(result.columns, result.rows, lang, result.receipt_id,
                                  (caller.user, tuple(result.grants)))


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
    withheld = "\n\n".join(p for p in (withheld_markdown(answer.withheld, lang), sdc_markdown(answer, lang)) if p)
    return (answer.sql, text("allowed_run", lang, n=answer.row_count) + (f"\n\n{withheld}" if withheld else ""),
            (f"{doubt}\n\n" if doubt else "")
            + f"{esc(answer.explanation)}\n\n{text('datasets_used', lang)}: {esc(versions)}"
            + _with_receipt(knowledge_line(answer, lang))
            + _with_receipt(receipt_block(assistant, caller, answer.receipt_id, lang)),
            *result_outputs(answer.columns, answer.rows, lang, answer.receipt_id, (caller.user, tuple(answer.grants))))


def turn_page(result: dict[str, Any] | None, step: int, lang: str,
              assistant: Services | None = None) -> tuple[Any, ...]:
    """The next or previous page of the result kept in the session; a result read through a grant that has ended
    since (revoked, suspended, expired) is dropped instead, with its CSV (issue 33)."""
    if not result:
        return None, None, ""
    if assistant is not None and not still_granted(assistant, result):
        return None, None, text("result_ended", lang)
    return result, *page_outputs(result, result.get("page", 0) + step, lang)


def still_granted(assistant: Services, result: dict[str, Any]) -> bool:
    """Whether every grant the kept result was read through still opens it to its user; if not, its CSV files
    (ours and Gradio's cached copies) are removed so a kept link no longer downloads it."""
    user, grants = result.get("granted") or ("", ())
    if not grants or assistant.grants_in_force(grants, user=user):
        return True
    remove_copies(os.path.basename(str(result.get("csv") or "")), os.environ.get("GRADIO_TEMP_DIR"))
    return False


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
    table = frame(result["columns"], [[None if is_suppressed(v) else v for v in row] for row in result["rows"]])

    def shown(name: str) -> Any:
        if name != kind:
            return gr.update(visible=False)
        extra: dict[str, Any] = {}
        if name == "bar" and table[y].dtype.kind in "iuf" and len(table):
            extra["y_lim"] = [0, float(table[y].max() or 0) * 1.1 or 1]  # bars start at zero
        return gr.update(value=table, x=x, y=y, visible=True, **extra)

    return shown("bar"), shown("line"), shown("scatter")


def result_outputs(columns: list[str], rows: list[list[Any]], lang: str, receipt_id: int | None = None,
                   granted: tuple[str, tuple[str, ...]] = ("", ())) -> tuple[Any, ...]:
    """State (with the result's receipt, and the user and grants it was read through), first page, page label,
    the automatic chart with its axes, and the CSV of every row."""
    csv = csv_file(columns, rows)
    remember_granted(csv, *granted)  # its download ends with the grant (assistant/ui/walls.py)
    result = {"columns": columns, "rows": rows, "page": 0, "receipt_id": receipt_id, "granted": granted, "csv": csv}
    spec = pick_chart(columns, rows)
    kind, x, y = (spec.kind, spec.x, spec.y) if spec else ("none", columns[0] if columns else None,
                                                           columns[1] if len(columns) > 1 else None)
    axes = [gr.update(choices=columns, value=x), gr.update(choices=columns, value=y)]
    return (result, *page_outputs(result, 0, lang), kind, *axes, *charts(result, kind, x, y), csv)


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


def layout(page: "Page") -> Any:
    """The SQL workbench tab: question -> SQL, Check and Run, the result in pages with a chart and a CSV, the
    steward's receipt tools; `page.parts` gets the dataset picker and the receipt row."""
    add = page.labels.add
    with gr.Tab(text("tab_sql"), id="sql", elem_id="tab-sql") as tab:
        with gr.Row():
            question = add(gr.Textbox(label=text("question"), elem_id="sql-question", scale=4), "question")
            dataset = add(gr.Dropdown(label=text("dataset"), choices=[], scale=1, elem_id="sql-dataset"), "dataset")
        generate_button = add(gr.Button(text("generate"), elem_id="sql-generate"), "generate", "value")
        sql = add(gr.Textbox(label=text("sql_code"), lines=4, elem_id="sql-code"), "sql_code")
        with gr.Row():
            check_button = add(gr.Button(text("check"), elem_id="sql-check"), "check", "value")
            run_button = add(gr.Button(text("run"), variant="primary", elem_id="sql-run"), "run", "value")
            right_button = add(gr.Button(text("knowledge_propose"), elem_id="sql-propose"), "knowledge_propose",
                               "value")
        verdict, explanation = gr.Markdown(elem_id="sql-verdict"), gr.Markdown(elem_id="sql-explanation")
        result = _result_layout(page)
        page.parts.update(dataset=dataset, sql_tools=page.receipt_tools("sql", result[0], last_receipt))
    check_button.click(page.bound(check), [sql, page.lang], verdict, **page.fast_queue)
    run_button.click(page.bound(run), [sql, page.lang], [verdict, *result], **page.fast_queue)
    right_button.click(page.bound(knowledge_tab.propose), [question, sql, page.lang], verdict,
                       api_name="knowledge_propose", **page.fast_queue)
    generate_button.click(_writer(page), [question, dataset, page.lang], [sql, verdict, explanation, *result],
                          **page.model_queue)
    return tab


def _result_layout(page: "Page") -> list[Any]:
    """The result's components, in the order `result_outputs` fills them, with their own events wired."""
    add = page.labels.add
    state = gr.State(None)
    table = add(gr.Dataframe(label=text("result"), elem_id="sql-table", interactive=False, max_height=500), "result")
    with gr.Row():
        prev_button = add(gr.Button(text("prev"), size="sm", elem_id="sql-prev"), "prev", "value")
        page_label = gr.Markdown(elem_id="sql-page")
        next_button = add(gr.Button(text("next"), size="sm", elem_id="sql-next"), "next", "value")
    with gr.Row():
        kind = add(gr.Radio(["bar", "line", "scatter", "none"], value="none", label=text("chart"),
                            elem_id="sql-chart-kind"), "chart")
        x_axis = add(gr.Dropdown(label=text("x"), choices=[], elem_id="sql-x"), "x")
        y_axis = add(gr.Dropdown(label=text("y"), choices=[], elem_id="sql-y"), "y")
    plots = [gr.BarPlot(visible=False, elem_id="sql-chart-bar"), gr.LinePlot(visible=False, elem_id="sql-chart-line"),
             gr.ScatterPlot(visible=False, elem_id="sql-chart-scatter")]
    csv = add(gr.File(label=text("csv"), elem_id="sql-csv"), "csv")
    paged = [state, table, page_label]
    prev_button.click(lambda r, g: turn_page(r, -1, g, page.assistant), [state, page.lang], paged)
    next_button.click(lambda r, g: turn_page(r, 1, g, page.assistant), [state, page.lang], paged)
    for control in (kind, x_axis, y_axis):
        control.input(charts, [state, kind, x_axis, y_axis], plots)
    return [state, table, page_label, kind, x_axis, y_axis, *plots, csv]


def _writer(page: "Page") -> Any:
    """Question -> SQL with Gradio's progress line (its own signature: the progress is a default argument)."""
    def write(question: str, dataset: str, lang: str, request: gr.Request,
              progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008  (Gradio's idiom)
        progress(0.1, desc=text("writing_sql", lang))
        return generate(page.assistant, caller_of(page.assistant, request), question, dataset, lang)

    write.__name__ = "generate"  # the event carries the handler's name, like every other
    return write
