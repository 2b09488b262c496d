"""API tokens (issue 31): bearer secrets that carry a role, for the REST API and the MCP server.

Only the sha256 of each secret is stored (GOVDATA_HOME/tokens.json, written whole and atomically under a lock);
the secret itself is shown once, when it is made. The file is read again whenever it changes, so a revocation
holds at the next request of a running server, like a removed user (users.py). A name is never reused, so a
receipt's `token:NAME` always means one token.

With shared state (issue 34) the tokens are rows of the state's `tokens` table (`PostgresTokens`), read on every
request, so a token revoked on one app server is refused by every other at its next request.
"""

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from assistant.policy.users import not_anonymous
from core.errors import FieldError, GovDataError
from core.files import atomic_write, file_lock
from core.state import shared_state

if TYPE_CHECKING:
    from core.settings import Settings
    from core.state.postgres import PostgresState

PREFIX = "gdt_"  # makes a leaked token easy to recognise (and to search for in logs and repositories)
MAX_TOKEN_CHARS = 200
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class Unauthorized(GovDataError):
    """A request without a usable token; `reason` says why (missing, unknown, expired, revoked)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class RateLimited(GovDataError):
    """A token over its request rate; `retry_after` is the seconds until its next request is accepted."""

    def __init__(self, name: str, per_minute: int, retry_after: float) -> None:
        self.retry_after = max(1, round(retry_after + 0.499))
        super().__init__(f"token {name!r} sent more than {per_minute} requests a minute; retry in "
                         f"{self.retry_after} s")


@dataclass(frozen=True)
class Token:
    """One token as stored: its name, role, the sha256 of its secret and its life (ISO times, UTC)."""

    name: str
    role: str
    sha256: str
    created: str
    expires: str
    revoked: str = ""
    created_by: str = ""
    org: str = ""  # the organisation whose grants its calls carry (issue 33); none by default

    def status(self, now: datetime) -> str:
        if self.revoked:
            return "revoked"
        return "expired" if datetime.fromisoformat(self.expires) <= now else "active"

    def public(self, now: datetime) -> dict[str, Any]:
        """What `tokens list` shows: everything but the hash."""
        shown = {k: v for k, v in asdict(self).items() if k != "sha256"}
        return shown | {"status": self.status(now)}


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class TokenStore(Protocol):
    """The tokens of a deployment: a file under GOVDATA_HOME (embedded) or the shared state's table."""

    def tokens(self) -> dict[str, Token]: ...

    def create(self, name: str, role: str, days: int, by: str, now: datetime,
               org: str = "") -> tuple[Token, str]: ...

    def revoke(self, name: str, now: datetime) -> Token: ...

    def find(self, secret: str) -> Token | None: ...


def _new_token(name: str, role: str, days: int, by: str, now: datetime, org: str = "") -> tuple[Token, str]:
    if not _NAME.fullmatch(name):
        raise FieldError("name", "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
    not_anonymous(name)
    secret = PREFIX + secrets.token_urlsafe(32)
    return Token(name, role, digest(secret), now.isoformat(), (now + timedelta(days=days)).isoformat(),
                 created_by=by, org=org), secret


def _matching(tokens: dict[str, Token], secret: str) -> Token | None:
    """The token whose secret this is, compared in constant time against every stored hash."""
    wanted = digest(secret)
    found = None
    for token in tokens.values():
        if hmac.compare_digest(token.sha256, wanted):
            found = token
    return found


class TokenFile:
    """The tokens of one GOVDATA_HOME. Reads are cached by the file's stamp; writes hold the lock and replace the
    whole file (it is small: one line per token ever made)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_file = path.with_name(path.name + ".lock")
        self._cached: tuple[tuple[int, ...], dict[str, Token]] | None = None
        self._reading = threading.Lock()

    def tokens(self) -> dict[str, Token]:
        """name -> Token, read again when the file changed since the last read."""
        stamp = self._stamp()
        with self._reading:
            if self._cached is None or self._cached[0] != stamp:
                self._cached = (stamp, self._read())
            return self._cached[1]

    def create(self, name: str, role: str, days: int, by: str, now: datetime, org: str = "") -> tuple[Token, str]:
        """A new token and its secret (shown once); a name in use (or used before) is refused."""
        token, secret = _new_token(name, role, days, by, now, org)
        with file_lock(self._lock_file):
            current = self._read()
            if name in current:
                raise FieldError("name", "a token with this name exists or existed; names are never reused", name)
            self._write({**current, name: token})
        return token, secret

    def revoke(self, name: str, now: datetime) -> Token:
        with file_lock(self._lock_file):
            current = self._read()
            if name not in current:
                raise FieldError("name", "no token has this name", name)
            token = current[name]
            if not token.revoked:
                token = replace(token, revoked=now.isoformat())
                self._write({**current, name: token})
        return token

    def find(self, secret: str) -> Token | None:
        """The token whose secret this is, compared in constant time against every stored hash."""
        return _matching(self.tokens(), secret)

    def _stamp(self) -> tuple[int, ...]:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return ()
        return info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns

    def _read(self) -> dict[str, Token]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return {spec["name"]: Token(**spec) for spec in raw["tokens"]}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise GovDataError(f"tokens file {self.path} is unreadable or malformed: {exc}") from None

    def _write(self, tokens: dict[str, Token]) -> None:
        text = json.dumps({"tokens": [asdict(t) for t in tokens.values()]}, ensure_ascii=False, indent=1)
        atomic_write(self.path, text + "\n")  # a new file from mkstemp: readable by its owner only


_COLUMNS = "name, role, sha256, created, expires, revoked, created_by, org"  # org: migration 8 (issue 33)


class PostgresTokens:
    """The tokens in the shared state, read on every call (a revocation holds on every host at once)."""

    def __init__(self, state: "PostgresState") -> None:
        self.state = state

    def tokens(self) -> dict[str, Token]:
        with self.state.connection() as con:
            return {row[0]: Token(*row) for row in con.execute(f"SELECT {_COLUMNS} FROM tokens ORDER BY created, name")}

    def create(self, name: str, role: str, days: int, by: str, now: datetime, org: str = "") -> tuple[Token, str]:
        token, secret = _new_token(name, role, days, by, now, org)
        if not self.put([token]):
            raise FieldError("name", "a token with this name exists or existed; names are never reused", name)
        return token, secret

    def put(self, tokens: list[Token]) -> int:
        """Insert tokens as they are; a name already there is left alone. Returns how many were new."""
        added = 0
        with self.state.transaction() as con:
            for token in tokens:
                cursor = con.execute(f"INSERT INTO tokens ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                                     "ON CONFLICT (name) DO NOTHING", tuple(asdict(token).values()))
                added += cursor.rowcount
        return added

    def revoke(self, name: str, now: datetime) -> Token:
        with self.state.transaction() as con:
            con.execute("UPDATE tokens SET revoked = %s WHERE name = %s AND revoked = ''", (now.isoformat(), name))
            row = con.execute(f"SELECT {_COLUMNS} FROM tokens WHERE name = %s", (name,)).fetchone()
        if row is None:
            raise FieldError("name", "no token has this name", name)
        return Token(*row)

    def find(self, secret: str) -> Token | None:
        return _matching(self.tokens(), secret)


def token_store(settings: "Settings") -> TokenStore:
    """The tokens of these settings: the shared state's table, or GOVDATA_HOME/tokens.json."""
    state = shared_state(settings.state)
    return PostgresTokens(state) if state is not None else TokenFile(settings.tokens_path)
