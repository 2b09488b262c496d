import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def free_port() -> int:
    """A TCP port nobody listens on at 127.0.0.1, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
GOVDATA = [sys.executable, "-m", "assistant.cli"]


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> object:
        return json.loads(self.stdout)


def govdata(home: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    """Run the real CLI in a subprocess against GOVDATA_HOME=home."""
    full_env = {**os.environ, "GOVDATA_HOME": str(home), "OMP_WAIT_POLICY": "PASSIVE", **(env or {})}
    done = subprocess.run([*GOVDATA, *args], capture_output=True, text=True, env=full_env, timeout=600)
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A writable copy of the fixture catalogs and documents."""
    target = tmp_path / "corpus"
    shutil.copytree(FIXTURES / "catalogs", target / "catalogs")
    shutil.copytree(FIXTURES / "docs", target / "docs")
    for path in target.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target
