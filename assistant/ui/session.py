"""Sign-in and language: the caller's role decides the choices each tab offers."""

from typing import Any

import gradio as gr

from assistant.services import Services
from assistant.ui.common import Caller
from assistant.ui.render import esc
from assistant.ui.text import language_of, text
from core.errors import GovDataError


def role_choices(assistant: Services, role: str, lang: str, table: str = "", level: str = "",
                 user: str | None = None) -> tuple[Any, Any]:
    """The workbench's tables (the role's and those the user's grants open) and the search's access levels this
    role may use, labelled in `lang`."""
    try:
        tables = [t.name for t in assistant.sql_tables(role, user=user).tables]
    except GovDataError:
        tables = []
    levels = assistant.role(role).access_levels
    return (gr.update(choices=[(text("all", lang), ""), *tables], value=table if table in tables else ""),
            gr.update(choices=[(text("any", lang), ""), *levels], value=level if level in levels else ""))


def who(assistant: Services, caller: Caller, accept_language: str | None) -> tuple[Any, ...]:
    """On page load: the language (from the browser), the role, its choices, and whether the Audit, Register and
    Knowledge tabs, the receipt tools under answers and results, the Access tab (members of an organisation and
    stewards) and its queue of requests (stewards) show (their handlers refuse others on the server anyway)."""
    lang = language_of(accept_language)
    steward = assistant.allowed(caller.role, "audit.read")
    decides = assistant.allowed(caller.role, "grants.manage")
    return (lang, lang, caller.role, *role_choices(assistant, caller.role, lang, user=caller.user),
            gr.update(visible=steward), gr.update(visible=assistant.allowed(caller.role, "register.read")),
            gr.update(visible=assistant.allowed(caller.role, "knowledge.review")),
            gr.update(visible=steward), gr.update(visible=steward), gr.update(visible=decides),
            gr.update(visible=decides or bool(assistant.organisation(caller.user))))


def whoami(caller: Caller, lang: str, role: str) -> str:
    return text("signed_in", lang, user=esc(caller.user), role=esc(role))
