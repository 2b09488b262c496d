"""The web server's own walls in front of Gradio's routes (issue 26): no uploads (the app has no upload component,
so Gradio's upload routes would only let a signed-in user fill the disk), and no session for a user who is no
longer in the users file (Gradio keeps sign-in tokens until a restart); and no download of a result read through
a grant that has ended (issue 33's exit: a CSV link shown before a revocation or an expiry stops working at once).
"""

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.policy.users import User, enabled, load_users
from core.errors import GovDataError

_UPLOAD_ROUTES = ("upload", "process_recording")  # Gradio's routes that write a request's files to its cache
_SIGN_IN = "login"  # the sign-in form may be sent as multipart; it carries no file


def writes_files(scope: Scope) -> bool:
    """Whether a request would make Gradio write files: its upload routes, or any multipart body but the
    sign-in form."""
    route = str(scope.get("path", "")).rstrip("/").rsplit("/", 1)[-1]
    if route in _UPLOAD_ROUTES:
        return True
    content_type = HTTPConnection(scope).headers.get("content-type", "")
    return content_type.lower().startswith("multipart/") and route != _SIGN_IN


class NoUploads:
    """Refuses (403) a request that would write files before a byte of its body is read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and writes_files(scope):
            await PlainTextResponse("this app accepts no uploads", status_code=403)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class SignedInUsers:
    """Drops the sign-in tokens of a user no longer in the users file (read again when it changes) or disabled in
    it, or no longer enabled in the shared state's users, so their next request is signed out; users that cannot be
    read answer 503 rather than trusting old tokens. `users_file` is the file or a function naming the file in force
    at each request; `users` (the shared state's, assistant/policy/users.py `users_of`) replaces it."""

    def __init__(self, app: ASGIApp, users_file: Path | None | Callable[[], Path | None] = None,
                 users: Callable[[], dict[str, User]] | None = None) -> None:
        self.app = app
        self.users = users or (lambda: load_users(users_file() if callable(users_file) else users_file))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                forget_removed(scope, enabled(self.users()))
            except GovDataError as exc:
                await PlainTextResponse(f"sign-in is unavailable: {exc}", status_code=503)(scope, receive, send)
                return
        await self.app(scope, receive, send)


_GRANTED: dict[str, tuple[str, tuple[str, ...]]] = {}  # a result file's name -> (user, the grants it was read through)
_RECORDED: dict[str, tuple[float, str]] = {}  # a result file's name -> (when it was recorded, its path)
_GRANTED_LOCK = threading.Lock()
GRANTED_KEEP_S = 3600.0  # the web cache's age limit (assistant.ui.layout.CACHE_SWEEP): Gradio deletes older results


def remember_granted(path: str, user: str, grants: tuple[str, ...], now: float | None = None) -> None:
    """Record that the file at `path` holds rows read through `grants` for `user` (a workbench CSV). Entries older
    than the web cache's age limit go, and every copy of their file with them, so the register does not grow
    with the server's uptime and no granted file outlives its entry (a download of it would not be checked)."""
    if not grants:
        return
    now = time.time() if now is None else now
    with _GRANTED_LOCK:
        expired = [(name, where) for name, (at, where) in _RECORDED.items() if now - at > GRANTED_KEEP_S]
        for name, _ in expired:
            _GRANTED.pop(name, None)
            _RECORDED.pop(name, None)
        name = os.path.basename(path)
        _GRANTED[name], _RECORDED[name] = (user, tuple(grants)), (now, path)
    for name, where in expired:
        Path(where).unlink(missing_ok=True)
        remove_copies(name, os.environ.get("GRADIO_TEMP_DIR"))


def granted_download(scope: Scope) -> tuple[str, str, tuple[str, ...]] | None:
    """(file name, user, grants) when the request downloads a file recorded by `remember_granted` (Gradio serves
    it, or its cached copy of the same name, from a `/file=PATH` route)."""
    path = unquote(str(scope.get("path", "")))
    if "file=" not in path:
        return None
    name = os.path.basename(path.split("file=", 1)[1])
    with _GRANTED_LOCK:
        found = _GRANTED.get(name)
    return (name, *found) if found else None


class GrantedDownloads:
    """Refuses (404) the download of a result read through a grant that no longer opens it to its user, and removes
    every copy of the file (`in_force(grants, user)` is `Services.grants_in_force`, read at every call)."""

    def __init__(self, app: ASGIApp, in_force: Callable[[tuple[str, ...], str], bool], folder: Callable[[], str | None]
                 = lambda: os.environ.get("GRADIO_TEMP_DIR")) -> None:
        self.app, self.in_force, self.folder = app, in_force, folder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = granted_download(scope) if scope["type"] == "http" else None
        if found is not None and not self.in_force(found[2], found[1]):
            self._remove(found[0])
            await PlainTextResponse("this result was read through a grant that has ended", status_code=404)(
                scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _remove(self, name: str) -> None:
        remove_copies(name, self.folder())
        with _GRANTED_LOCK:
            _GRANTED.pop(name, None)
            _RECORDED.pop(name, None)


def remove_copies(name: str, folder: str | None) -> None:
    """Delete every file of this name under the web cache `folder` (ours and Gradio's cached copies)."""
    if name and folder:
        for copy in Path(folder).rglob(name):
            copy.unlink(missing_ok=True)


def forget_removed(scope: Scope, users: set[str]) -> None:
    """Remove every token of the request's signed-in user from the app's tokens when the user is not in `users`."""
    tokens = getattr(scope.get("app"), "tokens", None)
    if not isinstance(tokens, dict):
        return
    for name, value in HTTPConnection(scope).cookies.items():
        user = tokens.get(value) if name.startswith("access-token") else None
        if user is not None and user not in users:
            for token in [t for t, holder in tokens.items() if holder == user]:
                tokens.pop(token, None)
