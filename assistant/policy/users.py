"""Web sign-in: users from a JSON file (bundled demo users, or GOVDATA_USERS_FILE), each mapped to a role.

Passwords are stored as PBKDF2-SHA256 hashes with a per-user salt; `python -m assistant.policy.users NAME ROLE` prints
an entry for a new user, and `govdata users add|list|disable` writes the file (issue 33). The file is read again
whenever it changes, so a user removed from it, disabled, or given a lower role, is refused or lowered at their next
request, without a restart (issue 26). A user may belong to an organisation (`org`: a department or an operator,
assistant/policy/grants.py); a user written before organisations existed belongs to none.

With shared state (issue 34) the users (with their organisation and whether they are disabled) live in the state's
`users` table instead, behind the same `UserStore` interface, read on every request, so a user disabled on one app
server is refused on every other at their next request.
"""

import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from assistant.policy.roles import config_text
from core.errors import FieldError, GovDataError
from core.files import atomic_write, file_lock
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
    org: str = ""
    disabled: bool = False

    def public(self) -> dict[str, object]:
        """What `govdata users list` shows: never the salt or the hash."""
        return {"name": self.name, "role": self.role, "org": self.org, "disabled": self.disabled}


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
        return {name: User(name, str(spec["role"]), str(spec["salt"]), str(spec["password_hash"]),
                           str(spec.get("org") or ""), bool(spec.get("disabled", False)))
                for name, spec in raw.items()}
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise GovDataError(f"users file {path or 'assistant/policy/users.json'} is malformed: {exc}") from None


def verify(users: dict[str, User], name: str, password: str) -> bool:
    user = users.get(name)
    if user is None or user.disabled:
        hash_password(password, "00" * 16)  # same work either way: no timing hint that the name exists
        return False
    return hmac.compare_digest(hash_password(password, user.salt)[1], user.password_hash)


def role_of(users: dict[str, User], name: str | None) -> str:
    """The signed-in user's role; without sign-in (local use) the least privileged role."""
    user = users.get(name or "")
    return user.role if user and not user.disabled else "citizen"


def enabled(users: dict[str, User]) -> set[str]:
    """The names that may sign in (a disabled user's sessions end like a removed user's)."""
    return {name for name, user in users.items() if not user.disabled}


ANONYMOUS = "anonymous"  # who an API caller without a token is, where an operator allows that: never a user
_USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def not_anonymous(name: str) -> None:
    """A user or a token may not take the name of callers without a token (in any case)."""
    if name.lower() == ANONYMOUS:
        raise FieldError("name", "is the name of callers without a token (GOVDATA_API__ANONYMOUS_ROLE)", name)


def new_user(name: str, role: str, password: str, org: str = "") -> User:
    """A user with a checked name and a hashed password (not stored yet)."""
    if not _USER_NAME.fullmatch(name):
        raise FieldError("name", "use 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit",
                         name)
    not_anonymous(name)
    if len(password) < 8:
        raise FieldError("password_env", "the password must have at least 8 characters")
    salt, digest = hash_password(password)
    return User(name, role, salt, digest, org)


def add_user(path: Path, name: str, role: str, password: str, org: str = "") -> User:
    """A new user in the users file at PATH (created if missing), written whole and atomically under a lock. A
    name in use is refused (`disable` ends a user; names are never reused, so receipts name one person)."""
    user = new_user(name, role, password, org)
    with file_lock(_lock_of(path)):
        current = _read(path) if path.is_file() else {}
        if name in current:
            raise FieldError("name", "a user with this name exists or existed; names are never reused", name)
        _write(path, {**current, name: user})
    return user


def disable_user(path: Path, name: str, disabled: bool = True) -> User:
    """The user can no longer sign in or act as GOVDATA_USER; their open sessions end at their next request.
    With `disabled=False` a disabled user is enabled again (`govdata users enable`)."""
    with file_lock(_lock_of(path)):
        current = _read(path) if path.is_file() else {}
        if name not in current:
            raise FieldError("name", "no user has this name", name)
        user = current[name]
        if user.disabled != disabled:
            user = User(user.name, user.role, user.salt, user.password_hash, user.org, disabled)
            _write(path, {**current, name: user})
    return user


def _lock_of(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def _write(path: Path, users: dict[str, User]) -> None:
    raw: dict[str, dict[str, object]] = {}
    for name, user in users.items():
        entry: dict[str, object] = {"role": user.role, "salt": user.salt, "password_hash": user.password_hash}
        if user.org:
            entry["org"] = user.org
        if user.disabled:
            entry["disabled"] = True
        raw[name] = entry
    atomic_write(path, json.dumps(raw, ensure_ascii=False, indent=2) + "\n")  # mkstemp: readable by its owner


class UserStore(Protocol):
    """The users of a deployment: the users file (embedded) or the shared state's table (issue 34)."""

    def current(self) -> dict[str, User]:
        """Every user as stored now, disabled ones included (with `disabled` set)."""
        ...

    def add(self, user: User) -> User:
        """Store a new user; a name in use (or used before) is refused."""
        ...

    def set_disabled(self, name: str, disabled: bool) -> User:
        """Disable a user, or enable a disabled one again."""
        ...


class UserFile:
    """The embedded users: GOVDATA_USERS_FILE, else GOVDATA_HOME/users.json once `users add` made it, else the
    bundled demo users (read only)."""

    def __init__(self, users_file: Path | None, home: Path) -> None:
        self.users_file, self.home = users_file, home

    @property
    def path(self) -> Path | None:
        """The file in force (None: the bundled demo users); as `Settings.users_path`."""
        if self.users_file is not None:
            return self.users_file
        made = self.home / "users.json"
        return made if made.is_file() else None

    def current(self) -> dict[str, User]:
        return load_users(self.path)

    def add(self, user: User) -> User:
        path = self.path or self.home / "users.json"
        with file_lock(_lock_of(path)):
            current = _read(path) if path.is_file() else {}
            if user.name in current:
                raise FieldError("name", "a user with this name exists or existed; names are never reused", user.name)
            _write(path, {**current, user.name: user})
        return user

    def set_disabled(self, name: str, disabled: bool) -> User:
        path = self.path
        if path is None:
            raise FieldError("name", "the bundled demo users cannot be changed; add users first (users add)", name)
        return disable_user(path, name, disabled)


_USER_COLUMNS = "name, role, salt, password_hash, org, disabled"


class UserTable:
    """The users of the shared state: one row each, with their organisation and the time they were disabled
    (empty: enabled). Read on every call, so a change on one host holds on every other at the next request."""

    def __init__(self, state: "PostgresState") -> None:
        self.state = state

    def current(self) -> dict[str, User]:
        with self.state.connection() as con:
            rows = con.execute(f"SELECT {_USER_COLUMNS} FROM users ORDER BY name").fetchall()
        return {row[0]: _user_row(row) for row in rows}

    def add(self, user: User) -> User:
        if not self.put(user):
            raise FieldError("name", "a user with this name exists or existed; names are never reused", user.name)
        return user

    def put(self, user: User) -> bool:
        """Insert a user as it is; a name already there is left alone (`state migrate`). True when written."""
        with self.state.transaction() as con:
            cursor = con.execute(f"INSERT INTO users ({_USER_COLUMNS}, changed) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                                 "ON CONFLICT (name) DO NOTHING",
                                 (user.name, user.role, user.salt, user.password_hash, user.org,
                                  _now() if user.disabled else "", _now()))
            return bool(cursor.rowcount)

    def set_disabled(self, name: str, disabled: bool) -> User:
        with self.state.transaction() as con:
            con.execute("UPDATE users SET disabled = %s, changed = %s WHERE name = %s AND (disabled = '') = %s",
                        (_now() if disabled else "", _now(), name, disabled))
            row = con.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE name = %s", (name,)).fetchone()
        if row is None:
            raise FieldError("name", "no user has this name", name)
        return _user_row(row)


def _user_row(row: tuple[str, ...]) -> User:
    name, role, salt, password_hash, org, disabled = row
    return User(name, role, salt, password_hash, org, bool(disabled))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def user_store(settings: "Settings") -> UserStore:
    """The users of these settings: the shared state's table, or the users file."""
    state = shared_state(settings.state)
    return UserTable(state) if state is not None else UserFile(settings.users_file, settings.home)


def users_of(settings: "Settings") -> Callable[[], dict[str, User]]:
    """What the web app, the CLI's GOVDATA_USER and the grant checks ask on every call for the users as they are
    now (disabled ones included, marked): the shared state's table, or the users file in force (read again when
    it changes)."""
    return user_store(settings).current


if __name__ == "__main__":
    name, role = sys.argv[1], sys.argv[2]
    salt, digest = hash_password(secrets.token_urlsafe(12) if len(sys.argv) < 4 else sys.argv[3])
    print(json.dumps({name: {"role": role, "salt": salt, "password_hash": digest}}, indent=2))
