"""Web sign-in: users from a JSON file (bundled demo users, or GOVDATA_USERS_FILE), each mapped to a role.

Passwords are stored as PBKDF2-SHA256 hashes with a per-user salt; `python -m assistant.policy.users NAME ROLE` prints
an entry for a new user. The file is read again whenever it changes, so a user removed from it, or given a lower role,
is refused or lowered at their next request, without a restart (issue 26).
"""

import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from assistant.policy.roles import config_text
from core.errors import GovDataError

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


if __name__ == "__main__":
    name, role = sys.argv[1], sys.argv[2]
    salt, digest = hash_password(secrets.token_urlsafe(12) if len(sys.argv) < 4 else sys.argv[3])
    print(json.dumps({name: {"role": role, "salt": salt, "password_hash": digest}}, indent=2))
