import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
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


@dataclass(frozen=True)
class PostgresServer:
    owner_dsn: str  # password from GOVDATA_TEST_PG_PASSWORD (scram on TCP, like a real deployment)
    reader_dsn: str
    port: int
    password_env: str = "GOVDATA_TEST_PG_PASSWORD"


def _postgres_bin() -> Path:
    """The folder of Debian's PostgreSQL server programs (initdb, pg_ctl): `make postgres` installs them."""
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / "initdb").is_file():
            return folder
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError("PostgreSQL server programs not found; run `make postgres` (apt-get install postgresql)")


@contextmanager
def postgres_cluster() -> Iterator[PostgresServer]:
    """A real PostgreSQL on 127.0.0.1 from Debian's packages (as the postgres user when run as root: initdb
    refuses root), stopped and removed on exit. The owner logs in with a password; the reader role is a plain
    LOGIN role with a password, as docs/deploy.md asks a DBA to create it. bench/engines.py uses it too."""
    import tempfile

    import psycopg

    bindir, folder = _postgres_bin(), Path(tempfile.mkdtemp(prefix="govdata-pg-"))
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(folder, "postgres", "postgres")
    secret = folder / "pw"
    secret.write_text("owner-secret\n")
    secret.chmod(0o644)
    data, port = folder / "data", free_port()
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "govdata_owner", "-E", "UTF8",
                    "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={secret}", "--no-sync"],
                   check=True, capture_output=True, timeout=120)
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-t", "60",
                    "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                   check=True, capture_output=True, timeout=120)
    owner = f"postgresql://govdata_owner:owner-secret@127.0.0.1:{port}/postgres"
    with psycopg.connect(owner, autocommit=True) as con:
        con.execute("CREATE ROLE govdata_reader LOGIN PASSWORD 'reader-secret'")
    os.environ["GOVDATA_TEST_PG_PASSWORD"] = "owner-secret"
    try:
        yield PostgresServer(f"postgresql://govdata_owner@127.0.0.1:{port}/postgres",
                             f"postgresql://govdata_reader:reader-secret@127.0.0.1:{port}/postgres", port)
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL for the whole session (tests/e2e/test_postgres.py)."""
    with postgres_cluster() as server:
        yield server


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` on 127.0.0.1, once per session (store contract and deploy tests)."""
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    process = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path_factory.mktemp("chroma-server")),
                                "--host", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                process.kill()
                pytest.fail(f"chroma run did not start: {process.stderr.read().decode() if process.stderr else ''}")
            time.sleep(0.3)
    yield url
    process.terminate()
    process.wait(timeout=20)


@dataclass(frozen=True)
class ApiServer:
    """`govdata serve` on 127.0.0.1 over a small home, with a token per role and one revoked (issue 31)."""

    url: str
    home: Path
    tokens: dict[str, str]

    def bearer(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture(scope="session")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """One real server for the REST and MCP end-to-end tests: the DOL catalog slice (public, restricted public and
    non-public records) and a guide ingested with the real embedding model; permits (sensitive columns) and
    applicants (ID numbers: personal data) approved as public tables. No model is loaded (no warm-up)."""
    home = tmp_path_factory.mktemp("api-home")
    sql = FIXTURES / "sql"
    steps = [("ingest", str(FIXTURES / "catalogs" / "dol_slice.data.json"),
              str(FIXTURES / "docs" / "increasing-digital-takeup.md")),
             ("datasets", "add", str(sql / "permits.csv"), "--describe", str(sql / "permits.describe.json")),
             ("datasets", "add", str(FIXTURES / "register" / "applicants.csv"))]
    for step in steps:
        done = govdata(home, *step)
        assert done.code == 0, done.stderr
    from assistant.services import Services
    from core.settings import Settings

    steward = Services(Settings(home=home, user="steward-ana"))
    tokens = {role: steward.create_token(role.replace("_", "-"), role, role="data_steward")[1]
              for role in ("citizen", "civil_servant", "data_steward")}
    tokens |= {f"client{n}": steward.create_token(f"client{n}", "citizen", role="data_steward")[1] for n in range(20)}
    tokens["revoked"] = steward.create_token("old", "data_steward", role="data_steward")[1]
    steward.revoke_token("old", role="data_steward")
    with serving(home) as url:
        yield ApiServer(url, home, tokens)


@contextmanager
def serving(home: Path) -> Iterator[str]:
    """`govdata serve` over `home` on a free port of 127.0.0.1 (no model warm-up), its URL while the block runs."""
    port = free_port()
    env = {**os.environ, "GOVDATA_HOME": str(home), "OMP_WAIT_POLICY": "PASSIVE", "GOVDATA_LLM__WARM_UP": "false"}
    process = subprocess.Popen([*GOVDATA, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                process.kill()
                pytest.fail(f"govdata serve did not start: {process.stderr.read().decode() if process.stderr else ''}")
            time.sleep(0.3)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
