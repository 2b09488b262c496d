"""The Find datasets tab: catalog search with filters, and opening an approved table in the workbench."""

from typing import Any

import gradio as gr

from assistant.errors import GovDataError
from assistant.services import Services
from assistant.ui.common import Caller, error_markdown
from assistant.ui.render import approved_tables, dataset_cards, esc
from assistant.ui.text import text


def find(assistant: Services, caller: Caller, query: str, publisher: str, fmt: str, since: str, level: str,
         lang: str) -> tuple[str, Any, Any]:
    """Result cards, and the approved tables among the results (to open in the workbench)."""
    hidden = gr.update(visible=False, choices=[], value=None)
    try:
        results = assistant.search_datasets(query, k=10, role=caller.role, publisher=publisher or None,
                                            format=fmt or None, since=since or None, access_level=level or None,
                                            user=caller.user)
    except GovDataError as exc:
        return error_markdown(exc, lang), hidden, gr.update(visible=False)
    approved = approved_tables(results)
    pick = gr.update(visible=bool(approved), choices=approved, value=approved[0] if approved else None)
    count = 0 if level else assistant.hidden_matches(query, k=10, role=caller.role)  # the words only, no filters
    note = f'<p class="hidden-note">{esc(text("hidden_matches", lang, n=count))}</p>' if count else ""
    return dataset_cards(results, lang) + note, pick, gr.update(visible=bool(approved))


def open_in_workbench(table: str | None) -> tuple[Any, Any]:
    if not table:
        return gr.update(), gr.update()
    return gr.Tabs(selected="sql"), gr.update(value=table)
