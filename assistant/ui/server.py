"""The web server: start-up checks of the services the settings name, sign-in against the users file, the walls
in front of Gradio's routes (assistant/ui/walls.py), the warm-up, and serving the page (assistant/ui/layout.py)."""

import logging
import threading
from typing import Any

from starlette.middleware import Middleware

from assistant.policy.users import load_users, verify
from assistant.services import Services
from assistant.ui.layout import CSS, build_ui
from assistant.ui.walls import NoUploads, SignedInUsers
from core.settings import Settings


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
