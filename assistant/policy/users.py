"""Web sign-in: users from a JSON file (bundled demo users, or GOVDATA_USERS_FILE), each mapped to a role.

Passwords are stored as PBKDF2-SHA256 hashes with a per-user salt; `python -m assistant.policy.users NAME ROLE` prints
an entry for a new user, and `govdata users add|list|disable` writes the file (issue 33). The file is read again
whenever it changes, so a user removed from it, disabled, or given a lower role, is refused or lowered at their next
request, without a restart (issue 26). A user may belong to an organisation (`org`: a department or an operator,
assistant/policy/grants.py); a user written before organisations existed belongs to none.
"""

import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from assistant.policy.roles import config_text
from core.errors import FieldError, GovDataError
from core.files import atomic_write, file_lock

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


_USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def add_user(path: Path, name: str, role: str, password: str, org: str = "") -> User:
    """A new user in the users file at PATH (created if missing), written whole and atomically under a lock. A
    name in use is refused (`disable` ends a user; names are never reused, so receipts name one person)."""
    if not _USER_NAME.fullmatch(name):
        raise FieldError("name", "use 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit",
                         name)
    if len(password) < 8:
        raise FieldError("password_env", "the password must have at least 8 characters")
    salt, digest = hash_password(password)
    user = User(name, role, salt, digest, org)
    with file_lock(_lock_of(path)):
        current = _read(path) if path.is_file() else {}
        if name in current:
            raise FieldError("name", "a user with this name exists or existed; names are never reused", name)
        _write(path, {**current, name: user})
    return user


def disable_user(path: Path, name: str) -> User:
    """The user can no longer sign in or act as GOVDATA_USER; their open sessions end at their next request."""
    with file_lock(_lock_of(path)):
        current = _read(path) if path.is_file() else {}
        if name not in current:
            raise FieldError("name", "no user has this name", name)
        user = current[name]
        if not user.disabled:
            user = User(user.name, user.role, user.salt, user.password_hash, user.org, True)
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


if __name__ == "__main__":
    name, role = sys.argv[1], sys.argv[2]
    salt, digest = hash_password(secrets.token_urlsafe(12) if len(sys.argv) < 4 else sys.argv[3])
    print(json.dumps({name: {"role": role, "salt": salt, "password_hash": digest}}, indent=2))
