"""What every tab's layout shares: the labels that follow the language switch, the two queues, the page's state,
the components one tab needs from another, and the one adapter from a Gradio event to a tab's handler."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from assistant.services import Services
from assistant.ui.common import caller_of, for_caller
from assistant.ui.text import route_choices, text

FAST_WORKERS = 16


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


@dataclass
class Page:
    """One page being built: Services, the labels, the language state and the queues; `receipt_actions` are the
    Audit tab's Replay and Verify handlers; `parts` holds the components another tab or the page itself wires to
    (the SQL tab's dataset picker, the tabs, ...)."""

    assistant: Services
    labels: Labels
    lang: Any
    model_queue: dict[str, Any]
    fast_queue: dict[str, Any]
    receipt_actions: tuple[Callable[..., str], Callable[..., str]] = field(default=(lambda *a: "", lambda *a: ""))
    parts: dict[str, Any] = field(default_factory=dict)

    def bound(self, handler: Callable[..., Any], name: str = "", **fixed: Any) -> Callable[..., Any]:
        """A tab's handler as Gradio calls it: the request becomes the caller (`common.for_caller`); `name` is
        the event's API name for gradio_client (stable across releases)."""
        return for_caller(self.assistant, handler, name, **fixed)

    def receipt_tools(self, prefix: str, source: Any, pick: Callable[[Any], int | None],
                      visible: bool = False) -> Any:
        """A steward's Replay and Verify buttons for the receipt `pick` finds in `source`, and the line they
        answer in; returns the row (shown to stewards only)."""
        add = self.labels.add
        with gr.Row(visible=visible, elem_id=f"{prefix}-receipt-tools") as row:
            replay = add(gr.Button(text("receipt_replay"), size="sm", elem_id=f"{prefix}-replay"), "receipt_replay",
                         "value")
            check = add(gr.Button(text("receipt_verify"), size="sm", elem_id=f"{prefix}-verify-receipt"),
                        "receipt_verify", "value")
        status = gr.Markdown(elem_id=f"{prefix}-receipt-status")
        for button, act in zip((replay, check), self.receipt_actions, strict=True):
            button.click(self._on_receipt(act, pick), [source, self.lang], status, **self.fast_queue)
        return row

    def _on_receipt(self, act: Callable[..., str], pick: Callable[[Any], int | None]) -> Callable[..., str]:
        def handler(source: Any, lang: str, request: gr.Request) -> str:
            return act(self.assistant, caller_of(self.assistant, request), pick(source), lang)

        return handler
