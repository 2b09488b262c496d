"""Web sign-in users: hashed passwords, roles, malformed files."""

import json
from pathlib import Path

import pytest

from assistant.policy.roles import load_roles
from assistant.policy.users import hash_password, load_users, role_of, verify
from core.errors import GovDataError


def test_bundled_demo_users_sign_in_with_their_documented_passwords() -> None:
    users = load_users()
    assert verify(users, "citizen", "citizen-demo") and verify(users, "analyst", "analyst-demo")
    assert not verify(users, "citizen", "analyst-demo") and not verify(users, "nobody", "x")
    assert {u.role for u in users.values()} <= set(load_roles())
    assert role_of(users, "steward") == "data_steward" and role_of(users, None) == "citizen"


def test_passwords_are_salted_hashes(tmp_path: Path) -> None:
    salt, digest = hash_password("secret")
    assert "secret" not in digest and hash_password("secret", salt)[1] == digest
    assert hash_password("secret")[1] != digest  # a new salt each time
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"ana": {"role": "civil_servant", "salt": salt, "password_hash": digest}}))
    users = load_users(path)
    assert verify(users, "ana", "secret") and role_of(users, "ana") == "civil_servant"


def test_malformed_users_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    path.write_text('{"ana": {"role": "citizen"}}')
    with pytest.raises(GovDataError, match="users file .* is malformed"):
        load_users(path)



def _entry(name: str, role: str, password: str = "pw") -> dict[str, dict[str, str]]:
    salt, digest = hash_password(password, "ab" * 16)
    return {name: {"role": role, "salt": salt, "password_hash": digest}}


def test_the_users_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    """Issue 26: removing a user or lowering a role took effect only after a restart (the file was cached)."""
    path = tmp_path / "users.json"
    path.write_text(json.dumps(_entry("ana", "civil_servant")))
    assert role_of(load_users(path), "ana") == "civil_servant"
    path.write_text(json.dumps(_entry("ana", "citizen")))
    assert role_of(load_users(path), "ana") == "citizen"
    path.write_text(json.dumps({**_entry("bo", "citizen", "new")}))
    users = load_users(path)
    assert "ana" not in users and verify(users, "bo", "new")
    assert load_users(path) is users  # unchanged file: not read again
