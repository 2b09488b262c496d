"""Receipts written by Services and read back by `govdata audit ...` (real DuckDB and SQLite, no model)."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.services import Services
from core.errors import GovDataError
from core.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sql"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(FIXTURES / "permits.csv", tmp_path / "permits.csv")
    monkeypatch.setenv("GOVDATA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GOVDATA_USER", "tester")
    services = Services(Settings())
    services.sql.approved.add(tmp_path / "permits.csv", access_level="restricted public",
                              describe=FIXTURES / "permits.describe.json")
    return tmp_path


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_run_and_refusal_each_leave_a_receipt(home: Path) -> None:
    services = Services(Settings(), interface="ui")
    result = services.sql_run("SELECT kind, count(*) AS n FROM permits GROUP BY kind ORDER BY kind",
                              role="civil_servant", user="ana")
    with pytest.raises(GovDataError):
        services.sql_run("DROP TABLE permits", role="civil_servant", user="ana")
    ran, refused = sorted(services.audit.recent(), key=lambda r: r.id)
    assert ran.id == result.receipt_id and ran.user == "ana" and ran.interface == "ui"
    assert ran.action == "sql.run" and ran.row_count == 3 and ran.sql == result.sql
    assert ran.datasets == {"permits": services.sql.approved.tables()[0].version} and not ran.raw_values
    assert refused.outcome.startswith("refused: ") and "DROP" in refused.outcome and refused.row_count is None
    assert services.audit.verify().ok


def test_steward_reading_sensitive_columns_is_marked_raw(home: Path) -> None:
    services = Services(Settings())
    services.sql_run("SELECT applicant_name FROM permits", role="data_steward")
    services.sql_run("SELECT applicant_name FROM permits", role="civil_servant")  # masked
    steward, servant = sorted(services.audit.recent(), key=lambda r: r.id)
    assert steward.raw_values and steward.user == "tester" and not servant.raw_values


def test_cli_list_show_verify_export(home: Path) -> None:
    Services(Settings()).sql_run("SELECT count(*) FROM permits", role="civil_servant")
    code, out = _cli("audit", "list", "--json")
    assert code == 0 and json.loads(out)[0]["action"] == "sql.run"
    code, out = _cli("audit", "show", "1", "--json")
    assert code == 0 and json.loads(out)["row_count"] == 1
    code, out = _cli("audit", "verify")
    assert code == 0 and out.startswith("ok: 1 receipts")
    code, out = _cli("audit", "export", "--format", "jsonl")
    assert code == 0 and json.loads(out.splitlines()[0])["id"] == 1


def test_replay_same_then_version_changed(home: Path) -> None:
    services = Services(Settings())
    services.sql_run("SELECT kind, fee FROM permits ORDER BY permit_id", role="civil_servant")
    code, out = _cli("audit", "replay", "1", "--json")
    report = json.loads(out)
    assert code == 0 and report["status"] == "same" and report["replay_receipt_id"] == 2
    with open(home / "permits.csv", "a", encoding="utf-8") as handle:
        handle.write("P9,北京,Zhang San,13800000000,event,10,2024-05-01\n")
    services.sql.approved.add(home / "permits.csv", access_level="restricted public",
                              describe=FIXTURES / "permits.describe.json")
    code, out = _cli("audit", "replay", "1", "--json")
    report = json.loads(out)
    assert code == 1 and report["status"] == "version_changed" and list(report["changed"]) == ["permits"]


def test_replay_refuses_receipts_without_sql_that_ran(home: Path) -> None:
    services = Services(Settings())
    with pytest.raises(GovDataError):
        services.sql_run("DELETE FROM permits", role="citizen")
    code, _ = _cli("audit", "replay", "1")
    assert code == 1


def test_personal_data_in_results_is_masked_unless_the_role_sees_it_raw(home: Path) -> None:
    services = Services(Settings())
    sql = "SELECT 'call 13800138000 or wf@example.cn' AS note FROM permits LIMIT 1"
    masked = services.sql_run(sql, role="civil_servant")
    raw = services.sql_run(sql, role="data_steward")
    assert masked.rows == [["call [PHONE ***8000] or [EMAIL]"]]
    assert raw.rows == [["call 13800138000 or wf@example.cn"]]
    assert not services.audit.get(masked.receipt_id).raw_values
    assert services.audit.get(raw.receipt_id).raw_values  # the steward's raw access is itself on record


def test_roles_file_rejects_an_unknown_pii_policy(tmp_path: Path) -> None:
    from assistant.policy.roles import get_role

    path = tmp_path / "roles.json"
    path.write_text(json.dumps({"x": {"access_levels": ["public"], "pii": "show"}}))
    with pytest.raises(GovDataError, match="pii must be one of mask, raw"):
        get_role("x", path)
    path.write_text(json.dumps({"y": {"access_levels": ["public"]}}))
    assert get_role("y", path).masks_pii  # masking is the default




def test_cli_verify_names_the_tampered_entry_and_exits_1(home: Path) -> None:
    import sqlite3

    services = Services(Settings())
    for n in range(3):
        services.sql_run(f"SELECT {n} AS n FROM permits LIMIT 1", role="civil_servant")
    with sqlite3.connect(services.audit.database) as connection:
        connection.execute("DROP TRIGGER receipts_no_update")
        connection.execute("UPDATE receipts SET body = replace(body, 'civil_servant', 'data_steward') WHERE id = 2")
    result = CliRunner().invoke(app, ["audit", "verify"])
    assert result.exit_code == 1 and "first bad entry 2" in result.output
    code, out = _cli("audit", "verify", "--json")
    assert code == 1 and json.loads(out)["first_bad_id"] == 2


def test_a_refused_sql_question_leaves_a_receipt(home: Path) -> None:
    services = Services(Settings())
    with pytest.raises(GovDataError, match="no approved tables for role"):
        services.sql_ask("How many?", role="citizen")  # the only table is restricted public
    [receipt] = services.audit.recent()
    assert receipt.action == "sql.ask" and receipt.outcome.startswith("refused: ") and receipt.role == "citizen"
