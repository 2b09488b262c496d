"""Tests that start several processes at once (issue 30: moved out of the unit suite, where they took most of its
time): parallel writers never fork the audit chain, parallel CLI runs keep one chain, and the web app's private
cache is removed when the process exits."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.audit import AuditLog
from assistant.services import Services
from core.settings import Settings
from tests.unit.test_app import _BUILD_AND_EXIT
from tests.unit.test_audit_receipts import FIXTURES

pytestmark = pytest.mark.e2e


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(FIXTURES / "permits.csv", tmp_path / "permits.csv")
    monkeypatch.setenv("GOVDATA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GOVDATA_USER", "tester")
    Services(Settings()).sql.approved.add(tmp_path / "permits.csv", access_level="restricted public",
                                           describe=FIXTURES / "permits.describe.json")
    return tmp_path


_WRITER = """
import sys
from assistant.audit import AuditLog, Receipt
log = AuditLog(__import__("pathlib").Path(sys.argv[1]))
for i in range(int(sys.argv[3])):
    log.append(Receipt("sql.run", sys.argv[2], "citizen", sql=f"SELECT {i}"))
"""


def test_concurrent_processes_never_fork_the_chain(tmp_path: Path) -> None:
    folder, per_writer, writers = tmp_path / "audit", 40, 4
    processes = [subprocess.Popen([sys.executable, "-c", _WRITER, str(folder), f"w{n}", str(per_writer)])
                 for n in range(writers)]
    assert all(p.wait(timeout=120) == 0 for p in processes)
    log = AuditLog(folder)
    result = log.verify()
    assert result.ok and result.entries == per_writer * writers
    for n in range(writers):
        sqls = {r.sql for r in log.recent(user=f"w{n}", limit=1000)}
        assert sqls == {f"SELECT {i}" for i in range(per_writer)}


def test_parallel_cli_processes_keep_one_chain(home: Path) -> None:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    commands = [[sys.executable, "-m", "assistant.cli", "sql", "run", f"SELECT {n} AS n FROM permits LIMIT 1",
                 "--role", "civil_servant"] for n in range(4)]
    processes = [subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for c in commands]
    assert all(p.wait(timeout=120) == 0 for p in processes)
    services = Services(Settings())
    assert services.audit.verify().ok
    assert sorted(r.sql for r in services.audit.recent()) == sorted(
        f"SELECT {n} AS n FROM permits AS permits LIMIT 1" for n in range(4))


def test_result_csvs_live_in_a_private_cache_removed_at_exit(tmp_path) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    (home / "ui-cache").mkdir(parents=True)
    (home / "ui-cache" / "stale.csv").write_text("left by a previous server")
    done = subprocess.run([sys.executable, "-c", _BUILD_AND_EXIT, str(home)], capture_output=True, text=True,
                          timeout=300, cwd=Path(__file__).resolve().parents[2],
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    written = Path(done.stdout.strip().splitlines()[-1])
    assert written.parent == (home / "ui-cache").resolve()
    assert not (home / "ui-cache").exists()  # removed at exit, with the stale file from before
