"""The web app: `build_ui(build_assistant(Settings()))`. It lays out the UI and calls the assistant; every
decision (access, routing, guard, answers, receipts) is made in assistant/, every escape in ui_render."""

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import FieldError, GovDataError
from assistant.models import Answer
from assistant.policy.roles import get_role
from assistant.policy.users import load_users, role_of, verify
from assistant.services import Services
from assistant.ui_render import (
    RECEIPT_COLUMNS,
    answer_markdown,
    approved_tables,
    dataset_cards,
    datasets_markdown,
    esc,
    page_of,
    receipt_rows,
    sql_markdown,
    uncertainty_markdown,
)
from assistant.ui_text import LANGUAGE_CHOICES, TEXT, language_of, text

ROUTES = ("auto", "docs", "datasets", "sql")
CSS = (".dataset-card{border:1px solid #ddd;border-radius:8px;padding:8px 12px;margin:6px 0}"
       "#sql-code textarea{font-family:monospace}")


CACHE_SWEEP = (600, 3600)  # every 10 minutes, Gradio deletes cached result files older than an hour


def build_assistant(settings: Settings) -> Services:
    return Services(settings, interface="ui")


def private_cache(assistant: Services) -> Path:
    """Gradio's file cache (result CSVs and their copies) in a folder only this account can enter, under
    GOVDATA_HOME, emptied at start and removed at exit: never world-readable files in the shared /tmp."""
    folder = (assistant.settings.home / "ui-cache").resolve()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, mode=0o700)
    folder.chmod(0o700)
    os.environ["GRADIO_TEMP_DIR"] = str(folder)  # read by each Gradio component when it is built
    atexit.register(shutil.rmtree, folder, True)
    return folder


def auth_for(assistant: Services) -> Any:
    """The sign-in check Gradio calls with (username, password)."""
    users = load_users(assistant.settings.users_file)
    return lambda name, password: verify(users, name, password)


def _user(request: Any) -> str:
    return getattr(request, "username", None) or "local"


def _role(assistant: Services, request: Any) -> str:
    return role_of(load_users(assistant.settings.users_file), getattr(request, "username", None))


def _error(exc: Exception, lang: str) -> str:
    """An error as the page says it: a field error names the form field by its label."""
    if isinstance(exc, FieldError):
        return f"{text('error', lang)}: {esc(exc.named(text(exc.field, lang) if exc.field in TEXT else exc.field))}"
    return f"{text('error', lang)}: {esc(exc)}"


def _route_choices(lang: str) -> list[tuple[str, str]]:
    return [(text(f"route_{r}", lang), r) for r in ROUTES]


def _frame(columns: list[str], rows: list[list[Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)


def _csv_file(columns: list[str], rows: list[list[Any]]) -> str:
    """The result as CSV in the private cache, readable only by this account (mkstemp's mode 600)."""
    with tempfile.NamedTemporaryFile("w", suffix=".csv", prefix="govdata-result-", delete=False,
                                     encoding="utf-8", dir=os.environ.get("GRADIO_TEMP_DIR")) as handle:
        _frame(columns, rows).to_csv(handle, index=False)
    return handle.name


def _charts(result: dict[str, Any] | None, kind: str, x: str | None, y: str | None) -> tuple[Any, Any, Any]:
    """The bar, line and scatter plots: only `kind` is shown, over the whole result, on the chosen axes."""
    import gradio as gr

    columns = (result or {}).get("columns", [])
    if not result or x not in columns or y not in columns or kind == "none":
        return gr.update(visible=False), gr.update(visible=False), gr.update(visible=False)
    frame = _frame(result["columns"], result["rows"])

    def shown(name: str) -> Any:
        if name != kind:
            return gr.update(visible=False)
        extra: dict[str, Any] = {}
        if name == "bar" and frame[y].dtype.kind in "iuf" and len(frame):
            extra["y_lim"] = [0, float(frame[y].max() or 0) * 1.1 or 1]  # bars start at zero
        return gr.update(value=frame, x=x, y=y, visible=True, **extra)

    return shown("bar"), shown("line"), shown("scatter")


def _result_outputs(columns: list[str], rows: list[list[Any]], lang: str) -> tuple[Any, ...]:
    """State, first page, page label, the automatic chart with its axes, and the CSV of every row."""
    import gradio as gr

    from assistant.sql.chart import pick_chart

    result = {"columns": columns, "rows": rows, "page": 0}
    spec = pick_chart(columns, rows)
    kind, x, y = (spec.kind, spec.x, spec.y) if spec else ("none", columns[0] if columns else None,
                                                           columns[1] if len(columns) > 1 else None)
    axes = [gr.update(choices=columns, value=x), gr.update(choices=columns, value=y)]
    return (result, *_page_outputs(result, 0, lang), kind, *axes, *_charts(result, kind, x, y),
            _csv_file(columns, rows))


def _page_outputs(result: dict[str, Any] | None, page: int, lang: str) -> tuple[Any, str]:
    if not result:
        return None, ""
    page, rows, first, last = page_of(result["rows"], page)
    result["page"] = page
    return _frame(result["columns"], rows), text("page", lang, first=first, last=last, total=len(result["rows"]))


def _no_result() -> tuple[Any, ...]:
    import gradio as gr

    hidden = gr.update(visible=False)
    return None, None, "", "none", gr.update(choices=[], value=None), gr.update(choices=[], value=None), \
        hidden, hidden, hidden, None


class _Labels:
    """Components whose text follows the language switch: (component, key, attribute)."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, str, str]] = []

    def add(self, component: Any, key: str, attribute: str = "label") -> Any:
        self.items.append((component, key, attribute))
        return component

    def updates(self, lang: str) -> list[Any]:
        import gradio as gr

        out = []
        for _component, key, attribute in self.items:
            value = text(key, lang)
            if attribute == "label+routes":  # the route selector: its label and its choices
                out.append(gr.update(label=value, choices=_route_choices(lang)))
            else:
                changes: dict[str, Any] = {attribute: value}
                out.append(gr.update(**changes))
        return out


def build_ui(assistant: Services) -> Any:  # noqa: PLR0915  (one layout, wired in one place)
    import gradio as gr

    private_cache(assistant)
    labels = _Labels()

    def role_choices(role: str, lang: str, table: str = "", level: str = "") -> tuple[Any, Any]:
        """The workbench's tables and the search's access levels this role may use, labelled in `lang`."""
        try:
            tables = [t.name for t in assistant.sql_tables(role).tables]
        except GovDataError:
            tables = []
        levels = get_role(role, assistant.settings.roles_file).access_levels
        return (gr.update(choices=[(text("all", lang), ""), *tables], value=table if table in tables else ""),
                gr.update(choices=[(text("any", lang), ""), *levels], value=level if level in levels else ""))

    def who(request: gr.Request) -> tuple[Any, ...]:
        role = _role(assistant, request)
        lang = language_of(request.headers.get("accept-language") if request.headers else None)
        return (lang, lang, role, *role_choices(role, lang), gr.update(visible=assistant.allowed(role, "audit.read")))

    def switch_language(lang: str, table: str, level: str, request: gr.Request) -> tuple[Any, Any]:
        return role_choices(_role(assistant, request), lang, table or "", level or "")

    def whoami(lang: str, role: str, request: gr.Request) -> str:
        return text("signed_in", lang, user=esc(_user(request)), role=esc(role))

    def relabel(lang: str) -> list[Any]:
        return labels.updates(lang)

    # ---- Ask ----
    def ask(message: str, history: list[dict[str, Any]], route_choice: str, lang: str, turns: list[list[str]],
            request: gr.Request) -> Iterator[tuple[list[dict[str, Any]], str, list[list[str]]]]:
        """Route, then stream the reply; `turns` keeps plain [question, answer, route] for follow-ups."""
        if not message.strip():
            yield history, "", turns
            return
        turn = [*history, {"role": "user", "content": message}]
        role, user = _role(assistant, request), _user(request)
        try:
            if route_choice in ("docs", "datasets", "sql"):
                route, reason = route_choice, text("route_chosen", lang)
            else:
                chosen = assistant.route(message, previous=turns[-1][2] if turns else None)
                route, reason = chosen.name, chosen.reason
            header = text("routed", lang, route=text(f"route_{route}", lang), reason=esc(reason))
            working = text({"docs": "searching_docs", "datasets": "searching_catalog"}.get(route, "writing_sql"), lang)
            yield [*turn, {"role": "assistant", "content": f"{header}\n\n{working}"}], "", turns
            for reply in _routed_reply(route, message, turns, role, user, lang):
                yield [*turn, {"role": "assistant", "content": f"{header}\n\n{reply}"}], "", turns
        except GovDataError as exc:
            yield [*turn, {"role": "assistant", "content": _error(exc, lang)}], "", turns

    def _routed_reply(route: str, message: str, turns: list[list[str]], role: str, user: str,
                      lang: str) -> Iterator[str]:
        if route == "datasets":
            results = assistant.search_datasets(message, k=5, role=role, user=user)
            turns.append([message, "; ".join(r.title for r in results), route])
            yield datasets_markdown(results, lang)
        elif route == "sql":
            answer = assistant.sql_ask(message, role=role, user=user)
            turns.append([message, answer.explanation, route])
            yield sql_markdown(answer, lang)
        else:
            pairs = [(q, a) for q, a, _ in turns]
            for event in assistant.ask_stream(message, role=role, history=pairs, user=user):
                if isinstance(event, Answer):
                    turns.append([message, event.answer, route])
                    yield answer_markdown(event)
                else:
                    yield esc(event) + " ▌"

    # ---- Find datasets ----
    def find(query: str, publisher: str, fmt: str, since: str, level: str, lang: str,
             request: gr.Request) -> tuple[str, Any, Any]:
        hidden = gr.update(visible=False, choices=[], value=None)
        try:
            results = assistant.search_datasets(
                query, k=10, role=_role(assistant, request), publisher=publisher or None, format=fmt or None,
                since=since or None, access_level=level or None,
                user=_user(request))
        except GovDataError as exc:
            return _error(exc, lang), hidden, gr.update(visible=False)
        approved = approved_tables(results)
        pick = gr.update(visible=bool(approved), choices=approved, value=approved[0] if approved else None)
        return dataset_cards(results, lang), pick, gr.update(visible=bool(approved))

    def open_in_workbench(table: str | None) -> tuple[Any, Any]:
        if not table:
            return gr.update(), gr.update()
        return gr.Tabs(selected="sql"), gr.update(value=table)

    # ---- SQL workbench ----
    def check(sql: str, lang: str, request: gr.Request) -> str:
        try:
            verdict = assistant.sql_check(sql, role=_role(assistant, request), user=_user(request))
        except GovDataError as exc:
            return _error(exc, lang)
        return text("allowed" if verdict.allowed else "rejected", lang) + ": " + esc(verdict.reason)

    def run(sql: str, lang: str, request: gr.Request) -> tuple[Any, ...]:
        from assistant.sql.guard import SqlRejected

        try:
            result = assistant.sql_run(sql, role=_role(assistant, request), user=_user(request))
        except SqlRejected as rejected:
            return f"{text('rejected', lang)}: {esc(rejected.reason)}", *_no_result()
        except GovDataError as exc:
            return _error(exc, lang), *_no_result()
        note = text("rows", lang, n=result.row_count) + (text("row_cap", lang) if result.truncated else "")
        return note, *_result_outputs(result.columns, result.rows, lang)

    def generate(question: str, dataset: str, lang: str, request: gr.Request,
                 progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008  (Gradio's idiom)
        progress(0.1, desc=text("writing_sql", lang))
        try:
            answer = assistant.sql_ask(question, role=_role(assistant, request), user=_user(request),
                                       dataset=dataset or None)
        except GovDataError as exc:
            return "", _error(exc, lang), "", *_no_result()
        if answer.error:
            return answer.sql, f"{text('error', lang)}: {esc(answer.error)}", esc(answer.explanation), *_no_result()
        versions = ", ".join(f"{k}@{v}" for k, v in answer.dataset_versions.items())
        doubt = uncertainty_markdown(answer, lang)
        return (answer.sql, text("allowed_run", lang, n=answer.row_count),
                (f"{doubt}\n\n" if doubt else "")
                + f"{esc(answer.explanation)}\n\n{text('datasets_used', lang)}: {esc(versions)}",
                *_result_outputs(answer.columns, answer.rows, lang))

    def turn_page(result: dict[str, Any] | None, step: int, lang: str) -> tuple[Any, ...]:
        if not result:
            return None, None, ""
        return result, *_page_outputs(result, result.get("page", 0) + step, lang)

    # ---- Audit ----
    def receipts(user: str, since: str, lang: str, request: gr.Request) -> tuple[Any, str]:
        role = _role(assistant, request)
        try:
            found = assistant.audit_receipts(role=role, user=_user(request), of_user=user or None,
                                             since=since or None, limit=200)
        except GovDataError as exc:  # a refusal is on the log too
            return None, text("audit_only", lang) if not assistant.allowed(role, "audit.read") else _error(exc, lang)
        return _frame(RECEIPT_COLUMNS, receipt_rows(found)), ""

    def verify_chain(lang: str, request: gr.Request) -> str:
        role = _role(assistant, request)
        try:
            result, _ = assistant.audit_verify(role=role, user=_user(request))
        except GovDataError as exc:
            return text("audit_only", lang) if not assistant.allowed(role, "audit.read") else _error(exc, lang)
        if result.ok:
            return text("audit_ok", lang, n=result.entries, head=f"{result.head_id} {result.head_hash[:16]}…")
        return text("audit_bad", lang, id=result.first_bad_id, problem=esc(result.problem))

    with gr.Blocks(title="GovData Assistant", delete_cache=CACHE_SWEEP) as ui:
        lang, role_state, turns = gr.State("en"), gr.State("citizen"), gr.State([])
        labels.add(gr.Markdown(text("title"), elem_id="title"), "title", "value")
        with gr.Row(equal_height=True):
            whoami_box = gr.Markdown(elem_id="whoami")
            language = labels.add(gr.Radio(LANGUAGE_CHOICES, value="en", label=text("language"), show_label=False,
                                           container=False, elem_id="language", scale=0, min_width=220), "language")
        with gr.Tabs(selected="ask") as tabs:
            with gr.Tab(text("tab_ask"), id="ask", elem_id="tab-ask") as tab_ask:
                chat = labels.add(gr.Chatbot(label=text("chat"), elem_id="ask-chat", height=440), "chat")
                route = gr.Radio(_route_choices("en"), value="auto", label=text("route"), elem_id="ask-route")
                labels.add(route, "route", "label+routes")
                message = labels.add(gr.Textbox(label=text("ask_message"), elem_id="ask-message"), "ask_message")
                ask_button = labels.add(gr.Button(text("ask_send"), variant="primary", elem_id="ask-send"),
                                        "ask_send", "value")
            with gr.Tab(text("tab_datasets"), id="datasets", elem_id="tab-datasets") as tab_datasets:
                query = labels.add(gr.Textbox(label=text("dataset_query"), elem_id="dataset-query"), "dataset_query")
                with gr.Row():
                    publisher = labels.add(gr.Textbox(label=text("publisher")), "publisher")
                    fmt = labels.add(gr.Textbox(label=text("format")), "format")
                    since = labels.add(gr.Textbox(label=text("since")), "since")
                    level = labels.add(gr.Dropdown(label=text("access_level"), choices=[], elem_id="dataset-level"),
                                       "access_level")
                search_button = labels.add(gr.Button(text("search"), elem_id="dataset-search"), "search", "value")
                cards = gr.HTML(elem_id="dataset-results")
                with gr.Row():
                    pick = labels.add(gr.Dropdown(label=text("approved_pick"), choices=[], visible=False,
                                                  elem_id="dataset-pick"), "approved_pick")
                    open_button = labels.add(gr.Button(text("query_dataset"), visible=False,
                                                       elem_id="dataset-open"), "query_dataset", "value")
            with gr.Tab(text("tab_sql"), id="sql", elem_id="tab-sql") as tab_sql:
                with gr.Row():
                    question = labels.add(gr.Textbox(label=text("question"), elem_id="sql-question", scale=4),
                                          "question")
                    dataset = labels.add(gr.Dropdown(label=text("dataset"), choices=[], scale=1,
                                                     elem_id="sql-dataset"), "dataset")
                generate_button = labels.add(gr.Button(text("generate"), elem_id="sql-generate"), "generate", "value")
                sql = labels.add(gr.Textbox(label=text("sql_code"), lines=4, elem_id="sql-code"), "sql_code")
                with gr.Row():
                    check_button = labels.add(gr.Button(text("check"), elem_id="sql-check"), "check", "value")
                    run_button = labels.add(gr.Button(text("run"), variant="primary", elem_id="sql-run"),
                                            "run", "value")
                verdict = gr.Markdown(elem_id="sql-verdict")
                explanation = gr.Markdown(elem_id="sql-explanation")
                result_state = gr.State(None)
                table = labels.add(gr.Dataframe(label=text("result"), elem_id="sql-table", interactive=False,
                                                max_height=500), "result")
                with gr.Row():
                    prev_button = labels.add(gr.Button(text("prev"), size="sm", elem_id="sql-prev"), "prev", "value")
                    page_label = gr.Markdown(elem_id="sql-page")
                    next_button = labels.add(gr.Button(text("next"), size="sm", elem_id="sql-next"), "next", "value")
                with gr.Row():
                    chart_kind = labels.add(gr.Radio(["bar", "line", "scatter", "none"], value="none",
                                                     label=text("chart"), elem_id="sql-chart-kind"), "chart")
                    x_axis = labels.add(gr.Dropdown(label=text("x"), choices=[], elem_id="sql-x"), "x")
                    y_axis = labels.add(gr.Dropdown(label=text("y"), choices=[], elem_id="sql-y"), "y")
                bar = gr.BarPlot(visible=False, elem_id="sql-chart-bar")
                line = gr.LinePlot(visible=False, elem_id="sql-chart-line")
                scatter = gr.ScatterPlot(visible=False, elem_id="sql-chart-scatter")
                csv = labels.add(gr.File(label=text("csv"), elem_id="sql-csv"), "csv")
            with gr.Tab(text("tab_audit"), id="audit", elem_id="tab-audit", visible=False) as tab_audit:
                with gr.Row():
                    audit_user = labels.add(gr.Textbox(label=text("audit_user"), elem_id="audit-user"), "audit_user")
                    audit_since = labels.add(gr.Textbox(label=text("audit_since"), elem_id="audit-since"),
                                             "audit_since")
                with gr.Row():
                    refresh = labels.add(gr.Button(text("audit_refresh"), elem_id="audit-refresh"),
                                         "audit_refresh", "value")
                    verify_button = labels.add(gr.Button(text("audit_verify"), elem_id="audit-verify"),
                                               "audit_verify", "value")
                audit_status = gr.Markdown(elem_id="audit-status")
                audit_table = gr.Dataframe(elem_id="audit-table", interactive=False, max_height=600, wrap=True)
        for tab, key in ((tab_ask, "tab_ask"), (tab_datasets, "tab_datasets"), (tab_sql, "tab_sql"),
                         (tab_audit, "tab_audit")):
            labels.add(tab, key)

        labelled = [component for component, _, _ in labels.items]
        ui.load(who, None, [lang, language, role_state, dataset, level, tab_audit]).then(
            whoami, [lang, role_state], whoami_box).then(relabel, lang, labelled)
        language.input(lambda value: value, language, lang).then(relabel, lang, labelled).then(
            whoami, [lang, role_state], whoami_box).then(switch_language, [lang, dataset, level], [dataset, level])
        for trigger in (ask_button.click, message.submit):
            trigger(ask, [message, chat, route, lang, turns], [chat, message, turns])
        chat.clear(lambda: [], None, turns)  # a cleared conversation starts without context
        for trigger in (search_button.click, query.submit):
            trigger(find, [query, publisher, fmt, since, level, lang], [cards, pick, open_button])
        open_button.click(open_in_workbench, pick, [tabs, dataset])
        check_button.click(check, [sql, lang], verdict)
        chart_outputs = [bar, line, scatter]
        result_outputs = [result_state, table, page_label, chart_kind, x_axis, y_axis, *chart_outputs, csv]
        run_button.click(run, [sql, lang], [verdict, *result_outputs])
        generate_button.click(generate, [question, dataset, lang], [sql, verdict, explanation, *result_outputs])
        prev_button.click(lambda r, g: turn_page(r, -1, g), [result_state, lang], [result_state, table, page_label])
        next_button.click(lambda r, g: turn_page(r, 1, g), [result_state, lang], [result_state, table, page_label])
        for control in (chart_kind, x_axis, y_axis):
            control.input(_charts, [result_state, chart_kind, x_axis, y_axis], chart_outputs)
        refresh.click(receipts, [audit_user, audit_since, lang], [audit_table, audit_status])
        verify_button.click(verify_chain, lang, audit_status)
        tab_audit.select(receipts, [audit_user, audit_since, lang], [audit_table, audit_status])
    return ui


def launch(assistant: Services, host: str, port: int) -> None:
    build_ui(assistant).queue(default_concurrency_limit=4).launch(
        server_name=host, server_port=port, show_error=False, auth=auth_for(assistant), css=CSS,
        auth_message="GovData Assistant — demo users are listed in the README.")


if __name__ == "__main__":
    launch(build_assistant(Settings()), "127.0.0.1", 7860)
