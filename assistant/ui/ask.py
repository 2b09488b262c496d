"""The Ask tab: route a message (or take the route the user chose), then stream the reply."""

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from assistant.models import Answer
from assistant.services import Services
from assistant.ui.common import Caller, error_markdown, receipt_block
from assistant.ui.render import answer_markdown, datasets_markdown, esc, result_markdown, sql_markdown
from assistant.ui.text import text
from core.errors import GovDataError

if TYPE_CHECKING:
    from assistant.ui.page import Page


Chat = list[dict[str, Any]]


def ask(assistant: Services, caller: Caller, message: str, history: Chat, route_choice: str, lang: str,
        turns: list[list[Any]]) -> Iterator[tuple[Chat, str, list[list[str]]]]:
    """Route, then stream the reply; `turns` keeps plain [question, answer, route, receipt id, readings, sql] for
    follow-ups, the steward's receipt tools, the other readings of a SQL question whose candidates disagreed and
    "This SQL is right" (readings and sql for SQL replies only)."""
    if not message.strip():
        yield history, "", turns
        return
    turn = [*history, {"role": "user", "content": message}]
    try:
        if route_choice in ("docs", "datasets", "sql"):
            route, reason = route_choice, text("route_chosen", lang)
        else:
            chosen = assistant.route(message, previous=turns[-1][2] if turns else None)
            route, reason = chosen.name, chosen.reason
        header = text("routed", lang, route=text(f"route_{route}", lang), reason=esc(reason))
        working = text({"docs": "searching_docs", "datasets": "searching_catalog"}.get(route, "writing_sql"), lang)
        yield [*turn, {"role": "assistant", "content": f"{header}\n\n{working}"}], "", turns
        for reply in routed_reply(assistant, caller, route, message, turns, lang):
            yield [*turn, {"role": "assistant", "content": f"{header}\n\n{reply}"}], "", turns
    except GovDataError as exc:
        yield [*turn, {"role": "assistant", "content": error_markdown(exc, lang)}], "", turns


def routed_reply(assistant: Services, caller: Caller, route: str, message: str, turns: list[list[Any]],
                 lang: str) -> Iterator[str]:
    """The reply of one route, as Markdown; a document answer streams its tokens first."""
    if route == "datasets":
        results = assistant.search_datasets(message, k=5, role=caller.role, user=caller.user)
        turns.append([message, "; ".join(r.title for r in results), route, None])
        yield datasets_markdown(results, lang)
    elif route == "sql":
        answer = assistant.sql_ask(message, role=caller.role, user=caller.user)
        readings = [{k: a.get(k) for k in ("sql", "explanation", "row_count")} for a in answer.alternatives[:3]]
        turns.append([message, answer.explanation, route, answer.receipt_id, readings if answer.uncertain else [],
                      answer.sql])
        yield _with_receipt(sql_markdown(answer, lang), receipt_block(assistant, caller, answer.receipt_id, lang))
    else:
        pairs = [(turn[0], turn[1]) for turn in turns]
        for event in assistant.ask_stream(message, role=caller.role, history=pairs, user=caller.user):
            if isinstance(event, Answer):
                turns.append([message, event.answer, route, event.receipt_id])
                yield _with_receipt(answer_markdown(event), receipt_block(assistant, caller, event.receipt_id, lang))
            else:
                yield esc(event) + " ▌"


def reading_choices(turns: list[list[Any]], lang: str) -> list[tuple[str, int]]:
    """The other readings of the latest reply, to pick from under the conversation; [] when the latest reply
    is not a SQL answer whose candidates disagreed. Numbered as in the reply (the one shown is 1)."""
    readings = turns[-1][4] if turns and len(turns[-1]) > 4 else []
    return [(text("reading_result", lang, n=n, explanation=r.get("explanation") or r["sql"])[:160], n)
            for n, r in enumerate(readings, 2)]


def show_reading(assistant: Services, caller: Caller, turns: list[list[Any]], number: int | None, history: Chat,
                 lang: str) -> Chat:
    """Run the reading the user picked, as the user (guarded again, with its own receipt), and add its
    result to the conversation."""
    readings = turns[-1][4] if turns and len(turns[-1]) > 4 else []
    if number is None or not 2 <= int(number) <= len(readings) + 1:
        return history
    reading = readings[int(number) - 2]
    header = f"**{esc(text('reading_result', lang, n=number, explanation=reading.get('explanation') or ''))}**"
    try:
        result = assistant.sql_run(reading["sql"], role=caller.role, user=caller.user)
    except GovDataError as exc:
        return [*history, {"role": "assistant", "content": f"{header}\n\n{error_markdown(exc, lang)}"}]
    body = _with_receipt(result_markdown(result, lang), receipt_block(assistant, caller, result.receipt_id, lang))
    return [*history, {"role": "assistant", "content": f"{header}\n\n{body}"}]


def propose_last(assistant: Services, caller: Caller, turns: list[list[Any]], lang: str) -> str:
    """"This SQL is right": the latest SQL reply's question and SQL, proposed as a pair for a steward to review."""
    from assistant.ui.knowledge import propose

    latest = next((turn for turn in reversed(turns) if len(turn) > 5 and turn[2] == "sql" and turn[5]), None)
    if latest is None:
        return text("knowledge_no_sql", lang)
    return propose(assistant, caller, latest[0], latest[5], lang)


def last_receipt(turns: list[list[Any]]) -> int | None:
    """The receipt of the conversation's latest reply that has one."""
    return next((turn[3] for turn in reversed(turns) if len(turn) > 3 and turn[3]), None)


def _with_receipt(reply: str, receipt: str) -> str:
    return f"{reply}\n\n{receipt}" if receipt else reply


def layout(page: "Page") -> Any:
    """The Ask tab: the conversation, the other readings of a SQL question, the route, the steward's receipt tools;
    returns the tab. `page.parts["ask_tools"]` is the receipt row the page shows to stewards."""
    import gradio as gr

    from assistant.ui.text import route_choices

    add = page.labels.add
    with gr.Tab(text("tab_ask"), id="ask", elem_id="tab-ask") as tab:
        turns = gr.State([])  # inside the tab: a component directly under gr.Tabs would count as a tab
        chat = add(gr.Chatbot(label=text("chat"), elem_id="ask-chat", height=440), "chat")
        with gr.Row(visible=False, elem_id="ask-readings-row") as readings_row:
            readings = add(gr.Radio([], label=text("readings"), elem_id="ask-readings", scale=3), "readings")
            reading_button = add(gr.Button(text("reading_show"), elem_id="ask-reading-show", scale=1),
                                 "reading_show", "value")
        route = add(gr.Radio(route_choices("en"), value="auto", label=text("route"), elem_id="ask-route"), "route",
                    "label+routes")
        message = add(gr.Textbox(label=text("ask_message"), elem_id="ask-message"), "ask_message")
        send = add(gr.Button(text("ask_send"), variant="primary", elem_id="ask-send"), "ask_send", "value")
        with gr.Row():
            right = add(gr.Button(text("knowledge_propose"), size="sm", elem_id="ask-propose", scale=0),
                        "knowledge_propose", "value")
            proposed = gr.Markdown(elem_id="ask-proposed")
        page.parts["ask_tools"] = page.receipt_tools("ask", turns, last_receipt)

    def offer_readings(turns_now: list[list[Any]], lang: str) -> tuple[Any, Any]:
        choices = reading_choices(turns_now, lang)
        return gr.update(visible=bool(choices)), gr.update(choices=choices, value=None)

    for trigger in (send.click, message.submit):
        trigger(page.bound(ask), [message, chat, route, page.lang, turns], [chat, message, turns],
                **page.model_queue).then(offer_readings, [turns, page.lang], [readings_row, readings])
    reading_button.click(page.bound(show_reading), [turns, readings, chat, page.lang], chat, **page.fast_queue)
    right.click(page.bound(propose_last), [turns, page.lang], proposed, api_name="knowledge_propose_answer",
                **page.fast_queue)
    chat.clear(lambda: [], None, turns).then(  # a cleared conversation starts without context
        offer_readings, [turns, page.lang], [readings_row, readings])
    return tab
