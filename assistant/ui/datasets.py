"""The Find datasets tab: catalog search with filters, and opening an approved table in the workbench."""

from typing import TYPE_CHECKING, Any

import gradio as gr

from assistant.services import Services
from assistant.ui.common import Caller, error_markdown
from assistant.ui.render import approved_tables, dataset_cards, esc
from assistant.ui.text import text
from core.errors import GovDataError

if TYPE_CHECKING:
    from assistant.ui.page import Page


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
    count = 0 if level else assistant.hidden_matches(query, k=10, role=caller.role,  # the words only, no filters
                                                     user=caller.user)
    note = f'<p class="hidden-note">{esc(text("hidden_matches", lang, n=count))}</p>' if count else ""
    cards = dataset_cards(results, lang) if results else nothing_card(
        assistant.closest_topics(query, role=caller.role), lang)
    return cards + note, pick, gr.update(visible=bool(approved))


def nothing_card(closest: dict[str, list[str]], lang: str) -> str:
    """No dataset matches the need; where to look instead (publishers and keywords of the closest records)."""
    hints = [f"{text(key, lang)}: {esc(', '.join(values))}" for key, values in
             (("closest_publishers", closest["publishers"]), ("closest_keywords", closest["keywords"])) if values]
    return f'<p class="nothing">{esc(text("nothing_matches", lang))}</p>' + "".join(f"<p>{h}</p>" for h in hints)


def open_in_workbench(table: str | None) -> tuple[Any, Any]:
    if not table:
        return gr.update(), gr.update()
    return gr.Tabs(selected="sql"), gr.update(value=table)


def layout(page: "Page") -> Any:
    """The Find datasets tab: the search with its filters and the cards; `page.parts` gets the level picker (the
    page fills it for the role) and the approved-table picker and its button (the page opens the SQL tab)."""
    add = page.labels.add
    with gr.Tab(text("tab_datasets"), id="datasets", elem_id="tab-datasets") as tab:
        query = add(gr.Textbox(label=text("dataset_query"), elem_id="dataset-query"), "dataset_query")
        with gr.Row():
            publisher = add(gr.Textbox(label=text("publisher")), "publisher")
            fmt = add(gr.Textbox(label=text("format")), "format")
            since = add(gr.Textbox(label=text("since")), "since")
            level = add(gr.Dropdown(label=text("access_level"), choices=[], elem_id="dataset-level"), "access_level")
        search = add(gr.Button(text("search"), elem_id="dataset-search"), "search", "value")
        cards = gr.HTML(elem_id="dataset-results")
        with gr.Row():
            pick = add(gr.Dropdown(label=text("approved_pick"), choices=[], visible=False, elem_id="dataset-pick"),
                       "approved_pick")
            open_button = add(gr.Button(text("query_dataset"), visible=False, elem_id="dataset-open"),
                              "query_dataset", "value")
    for trigger in (search.click, query.submit):
        trigger(page.bound(find), [query, publisher, fmt, since, level, page.lang], [cards, pick, open_button],
                **page.fast_queue)
    page.parts.update(level=level, pick=pick, open_button=open_button)
    return tab
