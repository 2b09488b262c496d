"""What every tab's handlers share: who is calling, how an error reads on the page, and result frames."""

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.policy.users import role_of, users_of
from assistant.services import Services
from assistant.ui.render import esc
from assistant.ui.text import TEXT, text
from core.errors import FieldError, GovDataError


@dataclass(frozen=True)
class Caller:
    """The signed-in user and the role the users file gives them (never anything the browser sends)."""

    user: str
    role: str


def caller_of(assistant: Services, request: Any) -> Caller:
    """Who is calling, with the role the users file gives them now (it is read again when it changes): a lowered
    role holds at the next request, and a signed-in user no longer in the file is refused."""
    name = getattr(request, "username", None)
    users = users_of(assistant.settings)()
    if name and (name not in users or users[name].disabled):
        raise GovDataError(f"user {name!r} may no longer use this app; sign in again")
    return Caller(name or "local", role_of(users, name))


def for_caller(assistant: Services, handler: Callable[..., Any], name: str = "", **fixed: Any) -> Callable[..., Any]:
    """The one adapter between Gradio and a tab's handler: Gradio passes the inputs and its request; the handler
    gets Services, the caller the users file says the request is, the inputs by name and `fixed` keywords. The
    signature Gradio reads is the handler's own, less (assistant, caller) and `fixed`, plus the request. `name`
    is the event's API name (what gradio_client calls; kept stable), the handler's own by default."""
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [p.name for p in list(inspect.signature(handler).parameters.values())[2:]
             if p.kind in kinds and p.name not in fixed]

    def arguments(args: tuple[Any, ...]) -> tuple[Caller, dict[str, Any]]:
        *values, request = args
        return caller_of(assistant, request), dict(zip(names, values, strict=True)) | fixed

    if inspect.isgeneratorfunction(handler):
        def stream(*args: Any) -> Any:
            caller, named = arguments(args)
            yield from handler(assistant, caller, **named)

        call: Callable[..., Any] = stream
    else:
        def call(*args: Any) -> Any:
            caller, named = arguments(args)
            return handler(assistant, caller, **named)

    import gradio as gr

    params = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in names]
    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [*params, inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=gr.Request)])
    call.__annotations__ = {"request": gr.Request}
    call.__name__ = name or getattr(handler, "__name__", "handler")
    return call


_LABELS = {"sql": "sql_code", "query": "dataset_query", "rows": "grant_rows", "reason": "decision_note",
           "note": "decision_note"}  # fields whose form label has another key


def error_markdown(exc: Exception, lang: str) -> str:
    """An error as the page says it: a field error names the form field by its label."""
    if isinstance(exc, FieldError):
        key = _LABELS.get(exc.field, exc.field)
        return f"{text('error', lang)}: {esc(exc.named(text(key, lang) if key in TEXT else exc.field))}"
    return f"{text('error', lang)}: {esc(exc)}"


def frame(columns: list[str], rows: list[list[Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows, columns=columns)


def receipt_block(assistant: Services, caller: Caller, receipt_id: int | None, lang: str) -> str:
    """The compact receipt of the caller's own request, to show under its answer ("" when there is none)."""
    from assistant.ui.render import receipt_markdown

    if receipt_id is None:
        return ""
    try:
        receipt = assistant.own_receipt(receipt_id, role=caller.role, user=caller.user)
    except GovDataError:
        return ""
    return receipt_markdown(receipt, lang, steward=assistant.allowed(caller.role, "audit.read"))
