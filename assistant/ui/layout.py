"""The page: components, their labels in both languages, and the events wired to each tab's handlers. The
wrappers here only turn a Gradio request into the caller; everything else happens in the handlers."""

import atexit
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from assistant.config import Settings
from assistant.policy.access import ACCESS_LEVELS
from assistant.policy.users import load_users, verify
from assistant.services import Services
from assistant.ui import ask as ask_tab
from assistant.ui import audit as audit_tab
from assistant.ui import datasets as datasets_tab
from assistant.ui import register as register_tab
from assistant.ui import session, workbench
from assistant.ui.ask import route_choices
from assistant.ui.common import caller_of
from assistant.ui.server import NoUploads, SignedInUsers
from assistant.ui.text import LANGUAGE_CHOICES, text

CSS = (".dataset-card{border:1px solid #ddd;border-radius:8px;padding:8px 12px;margin:6px 0}"
       "#sql-code textarea{font-family:monospace}"
       # primary buttons dark enough for white text (WCAG AA 4.5:1; Gradio's default orange is not)
       "button.primary,button.primary:hover{background:#b23c07 !important;color:#fff !important}"
       "footer a,footer button,.show-api,.built-with{color:#333 !important}")
CACHE_SWEEP = (600, 3600)  # every 10 minutes, Gradio deletes cached result files older than an hour


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


class Labels:
    """Components whose text follows the language switch: (component, key, attribute)."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, str, str]] = []

    def add(self, component: Any, key: str, attribute: str = "label") -> Any:
        self.items.append((component, key, attribute))
        return component

    def updates(self, lang: str) -> list[Any]:
        out = []
        for _component, key, attribute in self.items:
            value = text(key, lang)
            if attribute == "label+routes":  # the route selector: its label and its choices
                out.append(gr.update(label=value, choices=route_choices(lang)))
            else:
                changes: dict[str, Any] = {attribute: value}
                out.append(gr.update(**changes))
        return out


def queues(assistant: Services) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two queues: model work (answers, SQL writing) and fast work (searches, SQL runs, the audit tab), so a
    search never waits behind a slow answer. The embedded model answers one question at a time anyway; a model
    server takes `GOVDATA_LLM__MAX_CONCURRENT`. Inside, `Services` caps each user (model gate, query gate), so
    one user cannot hold every worker."""
    return ({"concurrency_id": "model", "concurrency_limit": assistant.settings.llm.workers()},
            {"concurrency_id": "fast", "concurrency_limit": FAST_WORKERS})


FAST_WORKERS = 16


def receipt_tools(labels: Labels, prefix: str, visible: bool = False) -> tuple[Any, Any, Any, Any]:
    """A steward's Replay and Verify buttons for a receipt, and the line they answer in."""
    with gr.Row(visible=visible, elem_id=f"{prefix}-receipt-tools") as row:
        replay = labels.add(gr.Button(text("receipt_replay"), size="sm", elem_id=f"{prefix}-replay"),
                            "receipt_replay", "value")
        check = labels.add(gr.Button(text("receipt_verify"), size="sm", elem_id=f"{prefix}-verify-receipt"),
                           "receipt_verify", "value")
    return row, replay, check, gr.Markdown(elem_id=f"{prefix}-receipt-status")


def build_ui(assistant: Services) -> Any:  # noqa: PLR0915  (one layout, wired in one place)
    private_cache(assistant)
    labels = Labels()
    model_queue, fast_queue = queues(assistant)

    def who(request: gr.Request) -> tuple[Any, ...]:
        accept = request.headers.get("accept-language") if request.headers else None
        return session.who(assistant, caller_of(assistant, request), accept)

    def switch_language(lang: str, table: str, level: str, request: gr.Request) -> tuple[Any, Any]:
        return session.role_choices(assistant, caller_of(assistant, request).role, lang, table or "", level or "")

    def whoami(lang: str, role: str, request: gr.Request) -> str:
        return session.whoami(caller_of(assistant, request), lang, role)

    def relabel(lang: str) -> list[Any]:
        return labels.updates(lang)

    def ask(message: str, history: list[dict[str, Any]], route_choice: str, lang: str, turns: list[list[Any]],
            request: gr.Request) -> Iterator[tuple[list[dict[str, Any]], str, list[list[Any]]]]:
        yield from ask_tab.ask(assistant, caller_of(assistant, request), message, history, route_choice, lang, turns)

    def offer_readings(turns_now: list[list[Any]], lang: str) -> tuple[Any, Any]:
        choices = ask_tab.reading_choices(turns_now, lang)
        return gr.update(visible=bool(choices)), gr.update(choices=choices, value=None)

    def show_reading(turns_now: list[list[Any]], number: int | None, history: list[dict[str, Any]], lang: str,
                     request: gr.Request) -> list[dict[str, Any]]:
        return ask_tab.show_reading(assistant, caller_of(assistant, request), turns_now, number, history, lang)

    def find(query: str, publisher: str, fmt: str, since: str, level: str, lang: str,
             request: gr.Request) -> tuple[str, Any, Any]:
        return datasets_tab.find(assistant, caller_of(assistant, request), query, publisher, fmt, since, level, lang)

    def check(sql: str, lang: str, request: gr.Request) -> str:
        return workbench.check(assistant, caller_of(assistant, request), sql, lang)

    def run(sql: str, lang: str, request: gr.Request) -> tuple[Any, ...]:
        return workbench.run(assistant, caller_of(assistant, request), sql, lang)

    def generate(question: str, dataset: str, lang: str, request: gr.Request,
                 progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008  (Gradio's idiom)
        progress(0.1, desc=text("writing_sql", lang))
        return workbench.generate(assistant, caller_of(assistant, request), question, dataset, lang)

    def receipts(user: str, since: str, lang: str, request: gr.Request) -> tuple[Any, str]:
        return audit_tab.receipts(assistant, caller_of(assistant, request), user, since, lang)

    def verify_chain(lang: str, request: gr.Request) -> str:
        return audit_tab.verify_chain(assistant, caller_of(assistant, request), lang)

    def receipt_action(act: Callable[..., str], pick: Callable[[Any], int | None]) -> Callable[..., str]:
        """A Replay or Verify handler on the receipt `pick` finds in its input (conversation, result, number)."""
        def handler(source: Any, lang: str, request: gr.Request) -> str:
            return act(assistant, caller_of(assistant, request), pick(source), lang)

        return handler

    def register_entries(publisher: str, level: str, max_score: float | None, stale: bool, lang: str,
                         request: gr.Request) -> tuple[Any, str]:
        return register_tab.entries(assistant, caller_of(assistant, request), publisher, level, max_score, stale,
                                    lang)

    def grade(target: str, lang: str, request: gr.Request) -> tuple[Any, str]:
        return register_tab.suggestions(assistant, caller_of(assistant, request), target, lang)

    def accept(target: str, suggestion: str, lang: str, request: gr.Request) -> tuple[Any, str]:
        return register_tab.decide(assistant, caller_of(assistant, request), target, suggestion, True, lang)

    def reject(target: str, suggestion: str, lang: str, request: gr.Request) -> tuple[Any, str]:
        return register_tab.decide(assistant, caller_of(assistant, request), target, suggestion, False, lang)

    def disclose(lang: str, request: gr.Request) -> tuple[str | None, str]:
        return register_tab.disclosure(assistant, caller_of(assistant, request), lang)

    def held(lang: str, request: gr.Request) -> tuple[Any, str]:
        return register_tab.held(assistant, caller_of(assistant, request), lang)

    def release_held(passage: str, lang: str, request: gr.Request) -> tuple[Any, str]:
        return register_tab.review(assistant, caller_of(assistant, request), passage, True, lang)

    def keep_held(passage: str, lang: str, request: gr.Request) -> tuple[Any, str]:
        return register_tab.review(assistant, caller_of(assistant, request), passage, False, lang)

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
                with gr.Row(visible=False, elem_id="ask-readings-row") as readings_row:
                    readings = labels.add(gr.Radio([], label=text("readings"), elem_id="ask-readings", scale=3),
                                          "readings")
                    reading_button = labels.add(gr.Button(text("reading_show"), elem_id="ask-reading-show",
                                                          scale=1), "reading_show", "value")
                route = gr.Radio(route_choices("en"), value="auto", label=text("route"), elem_id="ask-route")
                labels.add(route, "route", "label+routes")
                message = labels.add(gr.Textbox(label=text("ask_message"), elem_id="ask-message"), "ask_message")
                ask_button = labels.add(gr.Button(text("ask_send"), variant="primary", elem_id="ask-send"),
                                        "ask_send", "value")
                ask_tools, ask_replay, ask_verify, ask_receipt_status = receipt_tools(labels, "ask")
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
                sql_tools, sql_replay, sql_verify, sql_receipt_status = receipt_tools(labels, "sql")
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
                with gr.Row():
                    receipt_number = labels.add(gr.Number(label=text("receipt_number"), elem_id="audit-receipt",
                                                          minimum=1, precision=0, value=None), "receipt_number")
                _, audit_replay, audit_check, audit_receipt_status = receipt_tools(labels, "audit", visible=True)
                audit_table = gr.Dataframe(elem_id="audit-table", interactive=False, max_height=600, wrap=True)
            with gr.Tab(text("tab_register"), id="register", elem_id="tab-register", visible=False) as tab_register:
                with gr.Row():
                    reg_publisher = labels.add(gr.Textbox(label=text("publisher"), elem_id="register-publisher"),
                                               "publisher")
                    reg_level = labels.add(gr.Dropdown(label=text("access_level"), elem_id="register-level",
                                                       choices=[("", ""), *[(lv, lv) for lv in ACCESS_LEVELS]],
                                                       value=""), "access_level")
                    reg_max = labels.add(gr.Number(label=text("register_max_score"), elem_id="register-max",
                                                   minimum=0, maximum=100, precision=0, value=100),
                                         "register_max_score")
                    reg_stale = labels.add(gr.Checkbox(label=text("register_stale"), elem_id="register-stale"),
                                           "register_stale")
                reg_show = labels.add(gr.Button(text("register_show"), elem_id="register-show"), "register_show",
                                      "value")
                reg_status = gr.Markdown(elem_id="register-status")
                reg_table = labels.add(gr.Dataframe(label=text("register_table"), elem_id="register-table",
                                                    interactive=False, max_height=500, wrap=True), "register_table")
                with gr.Row():
                    grade_target = labels.add(gr.Textbox(label=text("target"), elem_id="grade-target", scale=3),
                                              "target")
                    grade_button = labels.add(gr.Button(text("grade_suggest"), elem_id="grade-suggest", scale=1),
                                              "grade_suggest", "value")
                grade_table = labels.add(gr.Dataframe(label=text("grade_table"), elem_id="grade-table",
                                                      interactive=False, wrap=True), "grade_table")
                with gr.Row():
                    grade_id = labels.add(gr.Textbox(label=text("suggestion"), elem_id="grade-id", scale=3),
                                          "suggestion")
                    accept_button = labels.add(gr.Button(text("grade_accept"), variant="primary",
                                                         elem_id="grade-accept", scale=1), "grade_accept", "value")
                    reject_button = labels.add(gr.Button(text("grade_reject"), elem_id="grade-reject", scale=1),
                                               "grade_reject", "value")
                grade_status = gr.Markdown(elem_id="grade-status")
                held_button = labels.add(gr.Button(text("held_show"), elem_id="held-show"), "held_show", "value")
                held_status = gr.Markdown(elem_id="held-status")
                held_table = labels.add(gr.Dataframe(label=text("held_table"), elem_id="held-table",
                                                     interactive=False, wrap=True), "held_table")
                with gr.Row():
                    held_id = labels.add(gr.Textbox(label=text("held_id"), elem_id="held-id", scale=3), "held_id")
                    release_button = labels.add(gr.Button(text("held_release"), elem_id="held-release", scale=1),
                                                "held_release", "value")
                    keep_button = labels.add(gr.Button(text("held_keep"), elem_id="held-keep", scale=1),
                                             "held_keep", "value")
                disclose_button = labels.add(gr.Button(text("disclosure_button"), elem_id="disclosure-build"),
                                             "disclosure_button", "value")
                disclose_file = labels.add(gr.File(label=text("disclosure_file"), elem_id="disclosure-file"),
                                           "disclosure_file")
                disclose_status = gr.Markdown(elem_id="disclosure-status")
        for tab, key in ((tab_ask, "tab_ask"), (tab_datasets, "tab_datasets"), (tab_sql, "tab_sql"),
                         (tab_audit, "tab_audit"), (tab_register, "tab_register")):
            labels.add(tab, key)

        labelled = [component for component, _, _ in labels.items]
        ui.load(who, None, [lang, language, role_state, dataset, level, tab_audit, tab_register, ask_tools,
                            sql_tools]).then(
            whoami, [lang, role_state], whoami_box).then(relabel, lang, labelled)
        language.input(lambda value: value, language, lang).then(relabel, lang, labelled).then(
            whoami, [lang, role_state], whoami_box).then(switch_language, [lang, dataset, level], [dataset, level])
        for trigger in (ask_button.click, message.submit):
            trigger(ask, [message, chat, route, lang, turns], [chat, message, turns], **model_queue).then(
                offer_readings, [turns, lang], [readings_row, readings])
        reading_button.click(show_reading, [turns, readings, chat, lang], chat, **fast_queue)
        chat.clear(lambda: [], None, turns).then(  # a cleared conversation starts without context
            offer_readings, [turns, lang], [readings_row, readings])
        for trigger in (search_button.click, query.submit):
            trigger(find, [query, publisher, fmt, since, level, lang], [cards, pick, open_button], **fast_queue)
        open_button.click(datasets_tab.open_in_workbench, pick, [tabs, dataset])
        check_button.click(check, [sql, lang], verdict, **fast_queue)
        chart_outputs = [bar, line, scatter]
        result_outputs = [result_state, table, page_label, chart_kind, x_axis, y_axis, *chart_outputs, csv]
        run_button.click(run, [sql, lang], [verdict, *result_outputs], **fast_queue)
        generate_button.click(generate, [question, dataset, lang], [sql, verdict, explanation, *result_outputs],
                              **model_queue)
        paged = [result_state, table, page_label]
        prev_button.click(lambda r, g: workbench.turn_page(r, -1, g), [result_state, lang], paged)
        next_button.click(lambda r, g: workbench.turn_page(r, 1, g), [result_state, lang], paged)
        for control in (chart_kind, x_axis, y_axis):
            control.input(workbench.charts, [result_state, chart_kind, x_axis, y_axis], chart_outputs)
        refresh.click(receipts, [audit_user, audit_since, lang], [audit_table, audit_status], **fast_queue)
        verify_button.click(verify_chain, lang, audit_status, **fast_queue)
        for source, pick, buttons, status in (
                (turns, ask_tab.last_receipt, (ask_replay, ask_verify), ask_receipt_status),
                (result_state, workbench.last_receipt, (sql_replay, sql_verify), sql_receipt_status),
                (receipt_number, lambda number: number, (audit_replay, audit_check), audit_receipt_status)):
            buttons[0].click(receipt_action(audit_tab.replay, pick), [source, lang], status, **fast_queue)
            buttons[1].click(receipt_action(audit_tab.verify_receipt, pick), [source, lang], status, **fast_queue)
        tab_audit.select(receipts, [audit_user, audit_since, lang], [audit_table, audit_status], **fast_queue)
        register_filters = [reg_publisher, reg_level, reg_max, reg_stale, lang]
        for trigger in (reg_show.click, tab_register.select):
            trigger(register_entries, register_filters, [reg_table, reg_status], **fast_queue)
        for trigger in (grade_button.click, grade_target.submit):
            trigger(grade, [grade_target, lang], [grade_table, grade_status], **fast_queue)
        accept_button.click(accept, [grade_target, grade_id, lang], [grade_table, grade_status], **fast_queue)
        reject_button.click(reject, [grade_target, grade_id, lang], [grade_table, grade_status], **fast_queue)
        held_button.click(held, lang, [held_table, held_status], **fast_queue)
        release_button.click(release_held, [held_id, lang], [held_table, held_status], **fast_queue)
        keep_button.click(keep_held, [held_id, lang], [held_table, held_status], **fast_queue)
        disclose_button.click(disclose, lang, [disclose_file, disclose_status], **fast_queue)
    return ui


def build_assistant(settings: Settings) -> Services:
    """The use cases the web app calls; its receipts say `interface: ui`."""
    return Services(settings, interface="ui")


def auth_for(assistant: Services) -> Any:
    """The sign-in check Gradio calls with (username, password), against the users file as it is now."""
    path = assistant.settings.users_file
    load_users(path)  # a missing or malformed file stops the server at start
    return lambda name, password: verify(load_users(path), name, password)


def walls(assistant: Services) -> list[Middleware]:
    """The server's walls in front of Gradio (assistant/ui/server.py): no uploads; no session for a removed user."""
    return [Middleware(NoUploads), Middleware(SignedInUsers, users_file=assistant.settings.users_file)]


def _warm_up(assistant: Services) -> None:
    """Model and store loaded while the first user signs in; a failure here is left to the first question,
    which reports it in the page."""
    try:
        assistant.warm_up()
    except Exception as exc:  # noqa: BLE001  (logged, never fatal: the question that needs the part says why)
        logging.getLogger(__name__).warning("warm-up failed: %s", str(exc).splitlines()[0] if str(exc) else exc)


def launch(assistant: Services, host: str, port: int, *, block: bool = True) -> Any:
    """Check the servers the settings name (Chroma, PostgreSQL, the model server) before serving: one clear error
    line at start, not a broken page later. `block=False` returns the running app (tests close it)."""
    from assistant.sql.postgres import check_postgres, target_of

    if (target := target_of(assistant.settings.sql)) is not None:
        check_postgres(target)
    if assistant.settings.chroma.url:
        assistant.store  # noqa: B018  (connects, or raises naming the URL)
    if assistant.settings.llm.provider == "openai":
        assistant.chat_model  # noqa: B018
    if assistant.settings.llm.warm_up:
        threading.Thread(target=_warm_up, args=(assistant,), name="warm-up", daemon=True).start()
    ui = build_ui(assistant).queue(default_concurrency_limit=4)
    ui.launch(server_name=host, server_port=port, show_error=False, auth=auth_for(assistant), css=CSS,
              auth_message="GovData Assistant — demo users are listed in the README.", max_file_size=0,
              app_kwargs={"middleware": walls(assistant)}, prevent_thread_lock=not block)
    return ui
