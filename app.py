"""The web app: `build_ui(build_assistant(Settings()))`. It only lays out the UI and calls the assistant;
every decision (access, guard, answers) is made in assistant/."""

import html
from typing import Any

from assistant.config import Settings
from assistant.errors import GovDataError
from assistant.services import Services
from assistant.users import load_users, role_of, verify


def build_assistant(settings: Settings) -> Services:
    return Services(settings)


def auth_for(assistant: Services) -> Any:
    """The sign-in check Gradio calls with (username, password)."""
    users = load_users(assistant.settings.users_file)
    return lambda name, password: verify(users, name, password)


def _role(assistant: Services, request: Any) -> str:
    return role_of(load_users(assistant.settings.users_file), getattr(request, "username", None))


def _error(exc: Exception) -> str:
    return f"error: {html.escape(str(exc))}"


def _link(url: str) -> str:
    """Only web links are clickable: a catalog could carry a javascript: URL."""
    if url.lower().startswith(("https://", "http://")):
        return f'<a href="{html.escape(url)}" target="_blank" rel="noopener noreferrer">{html.escape(url[:80])}</a>'
    return f"<code>{html.escape(url[:80])}</code>" if url else ""


def _dataset_cards(results: list[Any]) -> str:
    if not results:
        return "<p>No datasets found. / 没有找到数据集。</p>"
    cards = []
    for r in results:
        link = _link(r.url)
        query = (f'<p class="query-hint">Query this dataset in the SQL workbench: <code>{html.escape(r.identifier)}'
                 "</code></p>") if r.identifier.startswith("govdata-sql:") else ""
        cards.append(
            f'<div class="dataset-card"><h4>{html.escape(r.title)}</h4>'
            f"<p>{html.escape(r.publisher or '-')} · {html.escape(r.access_level)} · "
            f"{html.escape(', '.join(r.formats) or '-')} · updated {html.escape(r.modified or '-')}</p>"
            f"<p>{html.escape(r.description[:300])}</p>{link}{query}</div>"
        )
    return "\n".join(cards)


def _pairs(history: list[dict[str, str]]) -> list[tuple[str, str]]:
    """(question, answer) pairs of earlier turns, for follow-up questions."""
    turns = [str(m.get("content", "")) for m in history]
    return [(turns[i], turns[i + 1]) for i in range(0, len(turns) - 1, 2)]


def _answer_markdown(answer: Any) -> str:
    """The answer, then each citation as an expandable quote with its source."""
    parts = [html.escape(answer.answer)]
    for c in answer.citations:
        where = " ".join(p for p in (c.title, c.article or c.heading_path) if p)
        parts.append(f"<details><summary>[{c.n}] {html.escape(where)}</summary>\n\n> {html.escape(c.quote)}\n\n"
                     f"`{html.escape(c.source)}`</details>")
    return "\n\n".join(parts)


def _frame(columns: list[str], rows: list[list[Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)


def _no_result() -> tuple[Any, ...]:
    import gradio as gr

    hidden = gr.update(visible=False)
    return None, hidden, hidden, hidden, None, "none"


def _charts(frame: Any, kind: str, x: str, y: str) -> tuple[Any, Any, Any]:
    import gradio as gr

    def shown(name: str) -> Any:
        if name != kind:
            return gr.update(visible=False)
        extra: dict[str, Any] = {}
        if name == "bar" and frame[y].dtype.kind in "iuf":
            extra["y_lim"] = [0, float(frame[y].max() or 0) * 1.1 or 1]  # bars start at zero
        return gr.update(value=frame, x=x, y=y, visible=True, **extra)

    return shown("bar"), shown("line"), shown("scatter")


def _result_outputs(columns: list[str], rows: list[list[Any]]) -> tuple[Any, ...]:
    """Table, the automatic chart (kind picked from the values), a CSV file, and the chart kind shown."""
    import tempfile

    from assistant.sql.chart import pick_chart

    frame = _frame(columns, rows)
    spec = pick_chart(columns, rows)
    charts = _charts(frame, spec.kind, spec.x, spec.y) if spec else _no_result()[1:4]
    with tempfile.NamedTemporaryFile("w", suffix=".csv", prefix="govdata-result-", delete=False,
                                     encoding="utf-8") as handle:
        frame.to_csv(handle, index=False)
    return (frame, *charts, handle.name, spec.kind if spec else "none")


def build_ui(assistant: Services) -> Any:
    import gradio as gr

    def who(request: gr.Request) -> tuple[str, Any]:
        role = _role(assistant, request)
        try:
            tables = [t.name for t in assistant.sql.context(role).tables]
        except GovDataError:
            tables = []
        name = getattr(request, "username", None) or "local"
        return f"Signed in as **{name}** · role: **{role}**", gr.update(choices=["(all)", *tables], value="(all)")

    def find(query: str, publisher: str, fmt: str, since: str, request: gr.Request) -> str:
        try:
            results = assistant.search_datasets(query, k=10, role=_role(assistant, request),
                                                publisher=publisher or None, format=fmt or None,
                                                since=since or None)
        except GovDataError as exc:
            return _error(exc)
        return _dataset_cards(results)

    def check(sql: str, request: gr.Request) -> str:
        try:
            verdict = assistant.sql.check(sql, role=_role(assistant, request))
        except GovDataError as exc:
            return _error(exc)
        return ("allowed: " if verdict.allowed else "rejected: ") + html.escape(verdict.reason)

    def run(sql: str, request: gr.Request) -> tuple[Any, ...]:
        from assistant.sql.guard import SqlRejected

        try:
            result = assistant.sql.run(sql, role=_role(assistant, request))
        except SqlRejected as rejected:
            return f"rejected: {html.escape(rejected.reason)}", *_no_result()
        except GovDataError as exc:
            return _error(exc), *_no_result()
        note = f"{result.row_count} row(s)" + (" (row cap reached)" if result.truncated else "")
        return note, *_result_outputs(result.columns, result.rows)

    def generate(question: str, dataset: str, request: gr.Request) -> tuple[Any, ...]:
        try:
            answer = assistant.sql.ask(question, role=_role(assistant, request),
                                       dataset=None if dataset in ("", "(all)") else dataset)
        except GovDataError as exc:
            return "", _error(exc), "", *_no_result()
        if answer.error:
            return answer.sql, f"error: {html.escape(answer.error)}", answer.explanation, *_no_result()
        versions = ", ".join(f"{k}@{v}" for k, v in answer.dataset_versions.items())
        return (answer.sql, f"allowed and run: {answer.row_count} row(s)",
                f"{answer.explanation}\n\nDatasets: {versions}", *_result_outputs(answer.columns, answer.rows))

    def redraw(kind: str, frame: Any) -> tuple[Any, ...]:
        if frame is None or len(frame.columns) < 2:
            return _no_result()[1:4]
        return _charts(frame, kind, str(frame.columns[0]), str(frame.columns[1]))

    def ask(message: str, history: list[dict[str, str]], request: gr.Request) -> tuple[list[dict[str, str]], str]:
        pairs = _pairs(history)
        try:
            answer = assistant.ask(message, role=_role(assistant, request), history=pairs)
            reply = _answer_markdown(answer)
        except GovDataError as exc:
            reply = _error(exc)
        return [*history, {"role": "user", "content": message}, {"role": "assistant", "content": reply}], ""

    with gr.Blocks(title="GovData Assistant") as ui:
        gr.Markdown("# GovData Assistant · 政务数据助手")
        whoami = gr.Markdown(elem_id="whoami")
        with gr.Tab("Ask / 问答", elem_id="tab-ask"):
            chat = gr.Chatbot(elem_id="ask-chat", height=420)
            message = gr.Textbox(label="Ask about laws, policies and services / 提问", elem_id="ask-message")
            ask_button = gr.Button("Ask / 提问", variant="primary", elem_id="ask-send")
        with gr.Tab("Find datasets / 找数据", elem_id="tab-datasets"):
            query = gr.Textbox(label="Describe what you need / 描述您需要的数据", elem_id="dataset-query")
            with gr.Row():
                publisher = gr.Textbox(label="Publisher / 发布机构")
                fmt = gr.Textbox(label="Format / 格式")
                since = gr.Textbox(label="Updated since / 更新于 (YYYY-MM-DD)")
            search_button = gr.Button("Search / 搜索", elem_id="dataset-search")
            cards = gr.HTML(elem_id="dataset-results")
        with gr.Tab("SQL workbench / SQL 工作台", elem_id="tab-sql"):
            with gr.Row():
                question = gr.Textbox(label="Question / 问题", elem_id="sql-question", scale=4)
                dataset = gr.Dropdown(label="Dataset / 数据集", choices=["(all)"], value="(all)", scale=1)
            generate_button = gr.Button("Generate SQL / 生成 SQL", elem_id="sql-generate")
            sql = gr.Textbox(label="SQL (editable / 可编辑)", lines=4, elem_id="sql-code")
            with gr.Row():
                check_button = gr.Button("Check / 检查", elem_id="sql-check")
                run_button = gr.Button("Run / 运行", variant="primary", elem_id="sql-run")
            verdict = gr.Markdown(elem_id="sql-verdict")
            explanation = gr.Markdown(elem_id="sql-explanation")
            table = gr.Dataframe(elem_id="sql-table", interactive=False, max_height=400)
            chart_kind = gr.Radio(["bar", "line", "scatter", "none"], value="none", label="Chart / 图表",
                                  elem_id="sql-chart-kind")
            bar = gr.BarPlot(visible=False, elem_id="sql-chart-bar")
            line = gr.LinePlot(visible=False, elem_id="sql-chart-line")
            scatter = gr.ScatterPlot(visible=False, elem_id="sql-chart-scatter")
            csv = gr.File(label="CSV download / 下载 CSV", elem_id="sql-csv")
        ui.load(who, None, [whoami, dataset])
        ask_button.click(ask, [message, chat], [chat, message])
        message.submit(ask, [message, chat], [chat, message])
        search_button.click(find, [query, publisher, fmt, since], cards)
        query.submit(find, [query, publisher, fmt, since], cards)
        check_button.click(check, sql, verdict)
        result_outputs = [table, bar, line, scatter, csv, chart_kind]
        run_button.click(run, sql, [verdict, *result_outputs])
        generate_button.click(generate, [question, dataset], [sql, verdict, explanation, *result_outputs])
        chart_kind.input(redraw, [chart_kind, table], [bar, line, scatter])
    return ui


def launch(assistant: Services, host: str, port: int) -> None:
    build_ui(assistant).launch(server_name=host, server_port=port, show_error=False, auth=auth_for(assistant),
                               auth_message="GovData Assistant — demo users are listed in the README.")


if __name__ == "__main__":
    settings = Settings()
    launch(build_assistant(settings), "127.0.0.1", 7860)
