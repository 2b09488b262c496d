"""The page: the title, the language switch, one tab per module (each holds its layout, handlers and events:
ask, datasets, workbench, audit, register, knowledge, access) and the events that cross tabs. Every event reaches
its handler through one adapter (`Page.bound`); starting the server is `assistant/ui/server.py`."""

import atexit
import os
import shutil
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.services import Services
from assistant.ui import ask as ask_tab
from assistant.ui import audit as audit_tab
from assistant.ui import datasets as datasets_tab
from assistant.ui import grants as access_tab
from assistant.ui import knowledge as knowledge_tab
from assistant.ui import register as register_tab
from assistant.ui import session, workbench
from assistant.ui.common import caller_of
from assistant.ui.page import Labels, Page, queues
from assistant.ui.text import LANGUAGE_CHOICES, text
from assistant.ui.walls import GRANTED_KEEP_S

CSS = (".dataset-card{border:1px solid #ddd;border-radius:8px;padding:8px 12px;margin:6px 0}"
       "#sql-code textarea{font-family:monospace}"
       # primary buttons dark enough for white text (WCAG AA 4.5:1; Gradio's default orange is not)
       "button.primary,button.primary:hover{background:#b23c07 !important;color:#fff !important}"
       "footer a,footer button,.show-api,.built-with{color:#333 !important}")
CACHE_SWEEP = (600, int(GRANTED_KEEP_S))  # every 10 minutes, Gradio deletes cached result files older than an hour


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


def build_ui(assistant: Services) -> Any:
    """The whole page for one Services: every tab, and the events that cross tabs."""
    private_cache(assistant)
    with gr.Blocks(title="GovData Assistant", delete_cache=CACHE_SWEEP) as ui:
        page = Page(assistant, Labels(), gr.State("en"), *queues(assistant),
                    receipt_actions=(audit_tab.replay, audit_tab.verify_receipt))
        page.labels.add(gr.Markdown(text("title"), elem_id="title"), "title", "value")
        with gr.Row(equal_height=True):
            page.parts["whoami"] = gr.Markdown(elem_id="whoami")
            page.parts["language"] = page.labels.add(gr.Radio(
                LANGUAGE_CHOICES, value="en", label=text("language"), show_label=False, container=False,
                elem_id="language", scale=0, min_width=220), "language")
        with gr.Tabs(selected="ask") as tabs:
            for key, tab in (("tab_ask", ask_tab.layout(page)), ("tab_datasets", datasets_tab.layout(page)),
                             ("tab_sql", workbench.layout(page)), ("tab_audit", audit_tab.layout(page)),
                             ("tab_register", register_tab.layout(page)),
                             ("tab_knowledge", knowledge_tab.layout(page)), ("tab_access", access_tab.layout(page))):
                page.parts[key] = page.labels.add(tab, key)
        page.parts["tabs"] = tabs
        _wire_page(ui, page)
    return ui


def _wire_page(ui: Any, page: Page) -> None:
    """Sign-in fills the page for the role; the language switch relabels it; a dataset card opens the workbench."""
    assistant, parts, lang, role = page.assistant, page.parts, page.lang, gr.State("citizen")

    def who(request: gr.Request) -> tuple[Any, ...]:
        accept = request.headers.get("accept-language") if request.headers else None
        return session.who(assistant, caller_of(assistant, request), accept)

    def switch_language(lang: str, table: str, level: str, request: gr.Request) -> tuple[Any, Any]:
        caller = caller_of(assistant, request)
        return session.role_choices(assistant, caller.role, lang, table or "", level or "", user=caller.user)

    def whoami(lang: str, role: str, request: gr.Request) -> str:
        return session.whoami(caller_of(assistant, request), lang, role)

    def relabel(lang: str) -> list[Any]:
        return page.labels.updates(lang)

    labelled, pickers = [component for component, _, _ in page.labels.items], [parts["dataset"], parts["level"]]
    filled = [lang, parts["language"], role, *pickers, parts["tab_audit"], parts["tab_register"],
              parts["tab_knowledge"], parts["ask_tools"], parts["sql_tools"], parts["access_queue"],
              parts["tab_access"]]
    ui.load(who, None, filled).then(whoami, [lang, role], parts["whoami"]).then(relabel, lang, labelled)
    parts["language"].input(lambda value: value, parts["language"], lang).then(
        relabel, lang, labelled).then(whoami, [lang, role], parts["whoami"]).then(
        switch_language, [lang, *pickers], pickers)
    parts["open_button"].click(datasets_tab.open_in_workbench, parts["pick"], [parts["tabs"], parts["dataset"]])
