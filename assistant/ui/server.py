"""The server: start-up checks of the services the settings name, sign-in against the users file, the walls in
front of Gradio's routes (assistant/ui/walls.py), the warm-up, and one ASGI app on one port: the REST API at
/api/v1 and the MCP endpoint at /mcp (bearer tokens, issue 31) beside the page at / (assistant/ui/layout.py)."""

import logging
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from starlette.middleware import Middleware
from starlette.routing import Route

from assistant.policy.users import users_of, verify
from assistant.services import Services
from assistant.ui.layout import CSS, build_ui
from assistant.ui.walls import GrantedDownloads, NoUploads, SignedInUsers
from core.settings import Settings

AUTH_MESSAGE = "GovData Assistant — demo users are listed in the README."
SHUTDOWN_S = 5


def build_assistant(settings: Settings) -> Services:
    """The use cases the web app calls; its receipts say `interface: ui`."""
    return Services(settings, interface="ui")


def auth_for(assistant: Services) -> Any:
    """The sign-in check Gradio calls with (username, password), against the users file as it is now."""
    users = users_of(assistant.settings)
    users()  # a missing or malformed file (or an unreachable state) stops the server at start
    return lambda name, password: verify(users(), name, password)


def walls(assistant: Services) -> list[Middleware]:
    """The server's walls in front of Gradio (assistant/ui/server.py): no uploads; no session for a removed user; no
    download of a result whose grant has ended."""
    return [Middleware(NoUploads), Middleware(SignedInUsers, users=users_of(assistant.settings)),
            Middleware(GrantedDownloads, in_force=lambda grants, user: assistant.grants_in_force(grants, user=user))]


def _warm_up(assistant: Services) -> None:
    """Model and store loaded while the first user signs in; a failure here is left to the first question,
    which reports it in the page."""
    try:
        assistant.warm_up()
    except Exception as exc:  # noqa: BLE001  (logged, never fatal: the question that needs the part says why)
        logging.getLogger(__name__).warning("warm-up failed: %s", str(exc).splitlines()[0] if str(exc) else exc)


def launch(assistant: Services, host: str, port: int, *, block: bool = True) -> Any:
    """Check the servers the settings name (Chroma, PostgreSQL, the model server) before serving: one clear error
    line at start, not a broken page later. `block=False` returns the running server (tests close it)."""
    from assistant.sql.postgres import check_postgres, target_of

    if (target := target_of(assistant.settings.sql)) is not None:
        check_postgres(target)
    if assistant.settings.chroma.url:
        assistant.store  # noqa: B018  (connects, or raises naming the URL)
    if assistant.settings.llm.provider == "openai":
        assistant.chat_model  # noqa: B018
    if assistant.settings.llm.warm_up:
        threading.Thread(target=_warm_up, args=(assistant,), name="warm-up", daemon=True).start()
    return serve(build_app(assistant, host, port), host, port, block=block)


def build_app(assistant: Services, host: str, port: int) -> Any:
    """The one app: /api/v1 (FastAPI, OpenAPI at /api/v1/openapi.json), /mcp (streamable HTTP), and the web app at
    / with its sign-in and walls, unchanged. The API and MCP share the web app's parts (store, models, gates) and
    write receipts naming their own interface."""
    import gradio as gr
    from fastapi import FastAPI

    from assistant.api.app import PREFIX, build_api
    from assistant.mcp.server import PATH, http_app

    mcp, mcp_running = http_app(assistant.for_interface("mcp"), host)

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        async with mcp_running():
            yield

    root = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, lifespan=lifespan)
    root.mount(PREFIX, build_api(assistant.for_interface("api")))
    root.router.routes.append(Route(PATH, mcp))
    ui = build_ui(assistant).queue(default_concurrency_limit=4)
    return gr.mount_gradio_app(root, ui, path="/", server_name=host, server_port=port, auth=auth_for(assistant),
                               auth_message=AUTH_MESSAGE, show_error=False, max_file_size=0, css=CSS,
                               app_kwargs={"middleware": walls(assistant)})


@dataclass
class Running:
    """A server started with `block=False`."""

    server: Any
    thread: threading.Thread

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def serve(app: Any, host: str, port: int, *, block: bool = True) -> Running | None:
    """uvicorn on host:port; no access log (a search's words travel in its URL, and receipts already record
    every call). On a stop, open connections (a page's event streams) get a few seconds, not forever."""
    import uvicorn

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: Any = None) -> None:
            """End the page's event streams first, as Gradio's own server does, so a stop takes moments."""
            for event in _stop_events(app):
                event.set()
            await super().shutdown(sockets)

    server = Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                   timeout_graceful_shutdown=SHUTDOWN_S))
    print(f"serving http://{host}:{port}  (web app /, REST API /api/v1, MCP /mcp)", file=sys.stderr)
    if block:
        server.run()
        return None
    thread = threading.Thread(target=server.run, name="server", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.05)
    return Running(server, thread)


def _stop_events(app: Any) -> list[Any]:
    """The stop events of the apps mounted on APP (Gradio's: its heartbeat streams end when it is set)."""
    mounted = [getattr(route, "app", None) for route in getattr(app, "routes", [])]
    return [event for sub in mounted if (event := getattr(sub, "stop_event", None)) is not None]
