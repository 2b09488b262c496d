"""Serving the MCP tools: over stdio as the role given at start (`govdata mcp`, a local client such as a desktop
agent), and over streamable HTTP at /mcp (`govdata serve`), where every request passes the token check first."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.api.errors import error_response
from assistant.mcp.tools import CALLER, build
from assistant.services import Services
from assistant.usecases.tokens import Caller
from core.errors import GovDataError

PATH = "/mcp"


def run_stdio(services: Services, role: str) -> None:
    """Serve until the client closes stdin; an unknown role is one error line before anything is served."""
    services.role(role)
    server = build(services, Caller("stdio", role, services.user(None)))
    anyio.run(server.run_stdio_async)


def http_app(services: Services, host: str) -> tuple[ASGIApp, Callable[[], AbstractAsyncContextManager[None]]]:
    """The /mcp endpoint behind the token check, and what the server's lifespan must run while it serves.
    Stateless and JSON: each request stands alone, so any token may call at any time without a session."""
    server = build(services)
    app = server.streamable_http_app(streamable_http_path=PATH, stateless_http=True, json_response=True,
                                     host=host, max_request_body_size=services.settings.api.max_body_bytes)
    return TokenWall(app, services), server.session_manager.run


class TokenWall:
    """Before the MCP transport reads a byte of the body: the bearer token (401 with the reason), then its pace
    (429 with Retry-After); the caller goes into the request's scope for the tools."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app, self.services = app, services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                scope[CALLER] = self._caller(Headers(scope=scope).get("authorization"))
            except GovDataError as exc:
                await error_response(exc)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _caller(self, authorization: Any) -> Caller:
        caller = self.services.authenticate(authorization)
        self.services.admit(caller)
        return caller
