"""Issue 17: a `*` that quietly leaves denied columns out now says what it left out and why, in `sql check/run
--json` (`withheld`: [{"column", "reason"}]), the workbench and the Ask answer."""

import shutil
from pathlib import Path

import pytest

from assistant.services import Services
from assistant.sql.guard import SqlGuard
from assistant.sql.guard.model import WITHHELD_REASON
from assistant.ui import workbench
from assistant.ui.common import Caller
from tests.conftest import Home

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sql"


@pytest.fixture
def services(tmp_path: Path, home_builder: Home) -> Services:
    for name in ("permits.csv", "permits.describe.json"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    return home_builder.services(tables=((tmp_path / "permits.csv", {
        "name": "permits", "describe": tmp_path / "permits.describe.json", "access_level": "public"}),))


@pytest.mark.parametrize(("sql", "withheld"), [
    ("SELECT * FROM permits", ("permits.applicant_name", "permits.phone")),
    ("SELECT p.* FROM permits AS p WHERE p.fee > 0", ("permits.applicant_name", "permits.phone")),
    ("SELECT count(*) FROM permits", ()),  # count(*) reads no column
    ("SELECT kind, fee FROM permits", ()),
])
def test_the_guard_names_what_a_star_left_out(services: Services, sql: str, withheld: tuple[str, ...]) -> None:
    approval = services.sql.context("citizen").approval
    assert SqlGuard().guard(sql, approval).withheld == withheld


def test_check_and_run_json_carry_withheld_with_the_reason(services: Services) -> None:
    verdict = services.sql_check("SELECT * FROM permits", role="citizen")
    expected = [{"column": "permits.applicant_name", "reason": WITHHELD_REASON},
                {"column": "permits.phone", "reason": WITHHELD_REASON}]
    assert verdict.allowed and verdict.as_dict()["withheld"] == expected
    result = services.sql_run("SELECT * FROM permits", role="citizen")
    assert result.withheld == expected and "phone" not in result.columns
    steward = services.sql_run("SELECT * FROM permits", role="data_steward")
    assert steward.withheld == [] and "phone" in steward.columns
    masked = services.sql_run("SELECT * FROM permits", role="civil_servant")  # masked, not left out
    assert masked.withheld == [] and set(masked.masked_columns) == {"applicant_name", "phone"}


def test_the_workbench_says_what_was_left_out(services: Services) -> None:
    citizen = Caller("ana", "citizen")
    verdict = workbench.check(services, citizen, "SELECT * FROM permits", "en")
    assert verdict.startswith("allowed") and "permits.applicant_name, permits.phone left out: sensitive" in verdict
    shown = workbench.run(services, citizen, "SELECT * FROM permits", "zh")[0]
    assert "未显示 permits.applicant_name, permits.phone：敏感字段，当前角色不可见" in shown
    assert "left out" not in workbench.check(services, citizen, "SELECT kind FROM permits", "en")
