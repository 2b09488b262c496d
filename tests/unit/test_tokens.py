"""API tokens (issue 31): only a hash is stored, they expire and can be revoked (also under a running server), making
and revoking them is a steward's action with a receipt, and each token is paced."""

import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from assistant.policy.tokens import RateLimited, Unauthorized, now_utc
from assistant.services import Services
from core.errors import FieldError, GovDataError
from core.settings import Settings

STEWARD = "data_steward"


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("GOVDATA_USER", "steward-ana")
    return Services(Settings(home=tmp_path / "home"))


def test_only_the_hash_is_stored_in_a_file_only_its_owner_reads(services: Services) -> None:
    shown, secret = services.create_token("reporting-bot", "civil_servant", role=STEWARD)
    path = services.settings.tokens_path
    text = path.read_text(encoding="utf-8")
    assert secret.startswith("gdt_") and len(secret) > 40 and secret not in text
    [stored] = json.loads(text)["tokens"]
    assert stored["sha256"] != secret and len(stored["sha256"]) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert shown["status"] == "active" and "sha256" not in shown and shown["created_by"] == "steward-ana"
    assert all("sha256" not in t for t in services.list_tokens(role=STEWARD))
    caller = services.authenticate(f"Bearer {secret}")
    assert (caller.name, caller.role, caller.user) == ("reporting-bot", "civil_servant", "token:reporting-bot")


def test_a_token_expires(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    shown, secret = services.create_token("short", "citizen", days=1, role=STEWARD)
    assert shown["expires"][:10] == (now_utc() + timedelta(days=1)).date().isoformat()
    assert services.authenticate(f"Bearer {secret}").role == "citizen"
    later = now_utc() + timedelta(days=1, seconds=1)
    monkeypatch.setattr("assistant.usecases.tokens.now_utc", lambda: later)
    with pytest.raises(Unauthorized, match=f"token 'short' expired on {shown['expires'][:10]}"):
        services.authenticate(f"Bearer {secret}")
    assert [t["status"] for t in services.list_tokens(role=STEWARD)] == ["expired"]


def test_a_revoked_token_is_refused_at_once_by_a_running_server(services: Services, tmp_path: Path) -> None:
    _, secret = services.create_token("bot", "citizen", role=STEWARD)
    assert services.authenticate(f"bearer {secret}").name == "bot"  # the scheme is case-insensitive
    other = Services(Settings(home=tmp_path / "home"))  # another process, e.g. `govdata tokens revoke`
    assert other.revoke_token("bot", role=STEWARD)["status"] == "revoked"
    with pytest.raises(Unauthorized, match="token 'bot' revoked on"):
        services.authenticate(f"Bearer {secret}")
    assert other.revoke_token("bot", role=STEWARD)["status"] == "revoked"  # again: nothing changes


@pytest.mark.parametrize(("header", "reason"), [
    (None, "no token"), ("", "no token"), ("Basic abc", "must be: Bearer TOKEN"), ("Bearer", "must be: Bearer TOKEN"),
    ("Bearer gdt_nothing", "unknown token"), ("Bearer " + "x" * 10_000, "unknown token")])
def test_a_request_without_a_usable_token_is_told_why(services: Services, header: str | None, reason: str) -> None:
    with pytest.raises(Unauthorized, match=reason):
        services.authenticate(header)


def test_an_operator_may_let_calls_without_a_token_act_as_citizen(tmp_path: Path) -> None:
    services = Services(Settings(home=tmp_path / "home", api={"anonymous_role": "citizen"}))  # type: ignore[arg-type]
    caller = services.authenticate(None)
    assert (caller.name, caller.role, caller.user) == ("anonymous", "citizen", "anonymous")
    with pytest.raises(Unauthorized, match="unknown token"):
        services.authenticate("Bearer gdt_wrong")  # a wrong token is not anonymous


def test_managing_tokens_is_a_stewards_action_and_every_call_leaves_a_receipt(services: Services) -> None:
    with pytest.raises(GovDataError, match="role 'civil_servant' may not create, list or revoke API tokens"):
        services.create_token("mine", "data_steward", role="civil_servant")
    with pytest.raises(GovDataError, match="may not"):
        services.list_tokens(role="citizen")
    services.create_token("ok", "citizen", role=STEWARD)
    with pytest.raises(FieldError, match="names are never reused"):
        services.create_token("ok", "citizen", role=STEWARD)
    with pytest.raises(FieldError, match="use 1-64 letters"):
        services.create_token("bad name", "citizen", role=STEWARD)
    with pytest.raises(GovDataError, match="unknown role 'king'"):
        services.create_token("king", "king", role=STEWARD)
    with pytest.raises(FieldError, match="no token has this name"):
        services.revoke_token("ghost", role=STEWARD)
    receipts = services.audit.recent(limit=10)
    assert [r.action for r in receipts] == ["tokens.manage"] * 7
    assert [r.outcome.split(":")[0] for r in reversed(receipts)] == [
        "refused", "refused", "created", "refused", "refused", "refused", "refused"]
    assert receipts[-1].question == "create mine as data_steward" and receipts[-1].role == "civil_servant"
    assert services.audit.verify().ok


def test_a_token_whose_role_was_removed_is_refused(services: Services, tmp_path: Path) -> None:
    _, secret = services.create_token("legacy", "civil_servant", role=STEWARD)
    roles = tmp_path / "roles.json"
    roles.write_text('{"citizen": {"access_levels": ["public"]}, "data_steward": {"access_levels": ["public"]}}')
    narrowed = Services(Settings(home=tmp_path / "home", roles_file=roles))
    with pytest.raises(Unauthorized, match="names a role that no longer exists"):
        narrowed.authenticate(f"Bearer {secret}")


def test_each_token_is_paced_and_told_when_to_retry(tmp_path: Path) -> None:
    services = Services(Settings(home=tmp_path / "home", api={"requests_per_minute": 6, "burst": 2}))  # type: ignore[arg-type]
    one = services.authenticate(f"Bearer {services.create_token('one', 'citizen', role=STEWARD)[1]}")
    two = services.authenticate(f"Bearer {services.create_token('two', 'citizen', role=STEWARD)[1]}")
    services.admit(one)
    services.admit(one)
    with pytest.raises(RateLimited) as limited:
        services.admit(one)
    assert 1 <= limited.value.retry_after <= 10 and "more than 6 requests a minute" in str(limited.value)
    services.admit(two)  # another token has its own pace


def test_the_cli_prints_the_secret_once_and_lists_without_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    monkeypatch.setenv("GOVDATA_HOME", str(tmp_path / "home"))
    run = CliRunner().invoke
    made = run(app, ["tokens", "create", "bot", "citizen", "--expires", "7", "--json"])
    assert made.exit_code == 0, made.output
    token = json.loads(made.output)
    assert token["token"].startswith("gdt_") and token["role"] == "citizen" and token["status"] == "active"
    listed = run(app, ["tokens", "list", "--json"])
    assert token["token"] not in listed.output and json.loads(listed.output)[0]["name"] == "bot"
    assert json.loads(run(app, ["tokens", "revoke", "bot", "--json"]).output)["status"] == "revoked"
    refused = run(app, ["tokens", "list", "--role", "citizen"])
    assert isinstance(refused.exception, GovDataError)
    assert run(app, ["tokens", "create", "x", "citizen", "--expires", "0"]).exit_code == 2  # a usage error
