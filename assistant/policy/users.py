"""Web sign-in: users from a JSON file (bundled demo users, or GOVDATA_USERS_FILE), each mapped to a role.

Passwords are stored as PBKDF2-SHA256 hashes with a per-user salt; `python -m assistant.policy.users NAME ROLE` prints
an entry for a new user. The file is read again whenever it changes, so a user removed from it, or given a lower role,
is refused or lowered at their next request, without a restart (issue 26).

With shared state (issue 34) the users live in the state's `users` table instead, managed with `govdata users` and
read on every request, so a user disabled on one app server is refused on every other at their next request.
"""

import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.policy.roles import config_text
from core.errors import FieldError, GovDataError
from core.state import shared_state

if TYPE_CHECKING:
    from core.settings import Settings
    from core.state.postgres import PostgresState

_ITERATIONS = 120_000
_loaded: dict[Path | None, tuple[tuple[int, ...], dict[str, "User"]]] = {}  # path -> (file stamp, users)
_loading = threading.Lock()


@dataclass(frozen=True)
class User:
    name: str
    role: str
    salt: str
    password_hash: str


def hash_password(password: str, salt: str | None = None) -> tuple[str, str]:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), bytes.fromhex(salt), _ITERATIONS)
    return salt, digest.hex()


def load_users(path: Path | None = None) -> dict[str, User]:
    """The users of a file, read again when its size, times or inode change (one stat per call); the bundled
    file is read once."""
    stamp = _stamp(path)
    with _loading:
        cached = _loaded.get(path)
        if cached is None or cached[0] != stamp:
            cached = _loaded[path] = (stamp, _read(path))
        return cached[1]


def _stamp(path: Path | None) -> tuple[int, ...]:
    if path is None:
        return ()
    try:
        info = os.stat(path)
    except OSError as exc:
        raise GovDataError(f"users file {path}: cannot read it ({exc.strerror})") from None
    return info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def _read(path: Path | None) -> dict[str, User]:
    source = config_text(path, "users.json")
    try:
        raw = json.loads(source)
        return {name: User(name, str(spec["role"]), str(spec["salt"]), str(spec["password_hash"]))
                for name, spec in raw.items()}
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise GovDataError(f"users file {path or 'assistant/policy/users.json'} is malformed: {exc}") from None


def verify(users: dict[str, User], name: str, password: str) -> bool:
    user = users.get(name)
    if user is None:
        hash_password(password, "00" * 16)  # same work either way: no timing hint that the name exists
        return False
    return hmac.compare_digest(hash_password(password, user.salt)[1], user.password_hash)


def role_of(users: dict[str, User], name: str | None) -> str:
    """The signed-in user's role; without sign-in (local use) the least privileged role."""
    user = users.get(name or "")
    return user.role if user else "citizen"


class UserTable:
    """The users of the shared state: one row each, with the time it was disabled (empty: enabled)."""

    def __init__(self, state: "PostgresState") -> None:
        self.state = state

    def current(self) -> dict[str, User]:
        """The enabled users, read now (a disabled or removed user is simply not there)."""
        with self.state.connection() as con:
            rows = con.execute("SELECT name, role, salt, password_hash FROM users WHERE disabled = ''").fetchall()
        return {row[0]: User(*row) for row in rows}

    def listing(self) -> list[dict[str, Any]]:
        """Every user with role, status and last change; never a hash or salt."""
        with self.state.connection() as con:
            rows = con.execute("SELECT name, role, disabled, changed FROM users ORDER BY name").fetchall()
        return [{"name": n, "role": r, "status": "disabled" if d else "enabled", "disabled": d, "changed": c}
                for n, r, d, c in rows]

    def put(self, user: User, *, replace: bool = True) -> bool:
        """Add a user (enabled), or set a known one's role and password; without `replace` a known name is left
        as it is (`state migrate`). True when a row was written."""
        conflict = ("DO UPDATE SET role = excluded.role, salt = excluded.salt, password_hash = excluded.password_hash, "
                    "disabled = '', changed = excluded.changed") if replace else "DO NOTHING"
        with self.state.transaction() as con:
            cursor = con.execute(f"INSERT INTO users (name, role, salt, password_hash, changed) "
                                 f"VALUES (%s, %s, %s, %s, %s) ON CONFLICT (name) {conflict}",
                                 (*asdict(user).values(), _now()))
            return bool(cursor.rowcount)

    def set_enabled(self, name: str, enabled: bool) -> dict[str, Any]:
        with self.state.transaction() as con:
            cursor = con.execute("UPDATE users SET disabled = %s, changed = %s WHERE name = %s",
                                 ("" if enabled else _now(), _now(), name))
            if not cursor.rowcount:
                raise FieldError("name", "no user has this name", name)
        return next(u for u in self.listing() if u["name"] == name)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def user_table(settings: "Settings") -> UserTable | None:
    state = shared_state(settings.state)
    return UserTable(state) if state is not None else None


def users_of(settings: "Settings") -> Callable[[], dict[str, User]]:
    """What the web app asks on every request for the users as they are now: the shared state's table, or the
    users file (read again when it changes)."""
    table = user_table(settings)
    return table.current if table is not None else partial(load_users, settings.users_file)


if __name__ == "__main__":
    name, role = sys.argv[1], sys.argv[2]
    salt, digest = hash_password(secrets.token_urlsafe(12) if len(sys.argv) < 4 else sys.argv[3])
    print(json.dumps({name: {"role": role, "salt": salt, "password_hash": digest}}, indent=2))
