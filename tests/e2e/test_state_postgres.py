"""Issue 34 end to end: two app processes with their own GOVDATA_HOMEs and the same settings (shared state in a
real PostgreSQL, vectors in a real `chroma run`, approved tables on the PostgreSQL engine). What one ingests and
adds, the other searches and queries; 2 x 50 concurrent calls leave one chain with exactly the expected receipts;
a pg_dump of the schemas restored into a new database answers the same and its chain verifies; a process killed
mid-ingest leaves the other serving, and the ingest resumes."""

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.e2e.conftest import FIXTURES, GOVDATA, PostgresServer, govdata
from tests.e2e.test_store_contract import _database as chroma_database

pytestmark = pytest.mark.e2e

SEARCH = "托儿费用全国数据库"
SQL = 'SELECT "Kind", count(*) AS n FROM permits GROUP BY 1 ORDER BY 1'
CALLS = 50

_WORKER = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
from assistant.services import Services
from core.settings import Settings

services, calls = Services(Settings()), int(sys.argv[1])
services.search_datasets("warm up", k=1, role="citizen")  # the embedding model loads once, before the burst

def call(n):
    if n % 2:
        return len(services.search_datasets(sys.argv[2], k=5, role="citizen"))
    return len(services.sql_run(sys.argv[3], role="civil_servant").rows)

with ThreadPoolExecutor(16) as pool:
    print(json.dumps(list(pool.map(call, range(calls)))))
"""


def _env(postgres: PostgresServer, chroma: str, state_schema: str, tables_schema: str, database: str = "postgres",
         chroma_db: str = "") -> dict[str, str]:
    owner = postgres.owner_dsn.replace("/postgres", f"/{database}")
    reader = postgres.reader_dsn.replace("/postgres", f"/{database}")
    return {"GOVDATA_STATE__POSTGRES_DSN": owner, "GOVDATA_STATE__POSTGRES_PASSWORD_ENV": postgres.password_env,
            "GOVDATA_STATE__POSTGRES_SCHEMA": state_schema, "GOVDATA_CHROMA__URL": chroma,
            "GOVDATA_CHROMA__DATABASE": chroma_db, "GOVDATA_SQL__ENGINE": "postgres",
            "GOVDATA_SQL__POSTGRES_DSN": owner, "GOVDATA_SQL__POSTGRES_PASSWORD_ENV": postgres.password_env,
            "GOVDATA_SQL__POSTGRES_READER_DSN": reader, "GOVDATA_SQL__POSTGRES_SCHEMA": tables_schema,
            "GOVDATA_LLM__WARM_UP": "false"}


class Deployment:
    """The settings every host shares, and a home per host."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env = root, env

    def run(self, host: str, *args: str, ok: bool = True) -> object:
        done = govdata(self.root / host, *args, env=self.env)
        assert done.code == 0 or not ok, done.stderr
        return done.json() if "--json" in args else done

    def search(self, host: str) -> list[str]:
        found = self.run(host, "datasets", "search", SEARCH, "--k", "5", "--json")
        assert isinstance(found, list)
        return [r["title"] for r in found]

    def sql(self, host: str) -> object:
        found = self.run(host, "sql", "run", SQL, "--role", "civil_servant", "--json")
        assert isinstance(found, dict)
        return found["rows"]

    def verify(self, host: str) -> dict[str, object]:
        checked = self.run(host, "audit", "verify", "--role", "data_steward", "--json")
        assert isinstance(checked, dict)
        return checked


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer, chroma_url: str) -> Deployment:
    suffix = uuid.uuid4().hex[:8]
    env = _env(postgres, chroma_url, f"state_{suffix}", f"tables_{suffix}", chroma_db=chroma_database(chroma_url))
    deployment = Deployment(tmp_path_factory.mktemp("state-e2e"), env)
    deployment.run("a", "ingest", str(FIXTURES / "catalogs"), str(FIXTURES / "docs" / "increasing-digital-takeup.md"))
    deployment.run("a", "datasets", "add", str(FIXTURES / "sql" / "permits.csv"), "--describe",
                   str(FIXTURES / "sql" / "permits.describe.json"))
    return deployment


def test_what_one_host_ingests_and_adds_the_other_searches_and_queries(deployment: Deployment) -> None:
    on_b = deployment.search("b")
    assert any("Childcare Prices" in title for title in on_b) and on_b == deployment.search("a")
    rows = deployment.sql("b")
    assert rows and rows == deployment.sql("a")
    tables = deployment.run("b", "sql", "tables", "--role", "data_steward", "--json")
    assert "permits" in json.dumps(tables)
    assert not (deployment.root / "b" / "audit" / "audit.sqlite").exists()
    assert not (deployment.root / "b" / "chroma" / "contents.sqlite").exists()


def test_two_processes_of_fifty_concurrent_calls_leave_one_chain(deployment: Deployment) -> None:
    before = deployment.verify("a")
    assert before["ok"], before
    env = {**os.environ, **deployment.env, "OMP_WAIT_POLICY": "PASSIVE"}
    workers = [subprocess.Popen([sys.executable, "-c", _WORKER, str(CALLS), SEARCH, SQL],
                                env={**env, "GOVDATA_HOME": str(deployment.root / host)},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for host in ("a", "b")]
    outputs = [w.communicate(timeout=900) for w in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err[-2000:]
        assert all(n > 0 for n in json.loads(out))  # every call answered
    for host in ("a", "b"):
        after = deployment.verify(host)
        # the warm-up search of each worker and the 2 x 50 calls; reading the log leaves no receipt
        assert after["ok"] and after["entries"] == int(before["entries"]) + 2 + 2 * CALLS, after


def test_a_dump_of_the_schemas_restored_into_a_new_database_answers_the_same(
        deployment: Deployment, postgres: PostgresServer, tmp_path: Path) -> None:
    search, rows, head = deployment.search("a"), deployment.sql("a"), deployment.verify("a")
    dump, restored = tmp_path / "state.dump", f"restored_{uuid.uuid4().hex[:8]}"
    bindir = Path(shutil.which("pg_dump") or next(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))).parent
    password = {**os.environ, "PGPASSWORD": "owner-secret"}
    where = ["-h", "127.0.0.1", "-p", str(postgres.port), "-U", "govdata_owner"]
    schemas = [deployment.env["GOVDATA_STATE__POSTGRES_SCHEMA"], deployment.env["GOVDATA_SQL__POSTGRES_SCHEMA"]]
    subprocess.run([str(bindir / "pg_dump"), *where, "-d", "postgres", "-Fc", "-f", str(dump),
                    *(f"--schema={s}" for s in schemas)], check=True, env=password, timeout=300)
    with psycopg.connect(postgres.owner_dsn.replace("govdata_owner@", "govdata_owner:owner-secret@"),
                         autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{restored}"')
    subprocess.run([str(bindir / "pg_restore"), *where, "-d", restored, "--exit-on-error", str(dump)], check=True,
                   env=password, timeout=300)
    env = {**deployment.env}
    for key in ("GOVDATA_STATE__POSTGRES_DSN", "GOVDATA_SQL__POSTGRES_DSN", "GOVDATA_SQL__POSTGRES_READER_DSN"):
        env[key] = env[key].replace("/postgres", f"/{restored}")
    moved = Deployment(deployment.root, env)  # host a (its head file) and a new host c against the restore
    assert moved.search("c") == search and moved.sql("c") == rows
    for host in ("a", "c"):
        checked = moved.verify(host)
        assert checked["ok"] and int(checked["entries"]) >= int(head["entries"]), checked
    with owner_connection_to(postgres, restored, schemas[0]) as con:  # the append-only triggers came back too
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            con.execute("DELETE FROM receipts WHERE id = 1")


def owner_connection_to(postgres: PostgresServer, database: str, schema: str) -> psycopg.Connection:
    dsn = postgres.owner_dsn.replace("govdata_owner@", "govdata_owner:owner-secret@").replace("/postgres",
                                                                                              f"/{database}")
    return psycopg.connect(dsn, autocommit=True, options=f"-c search_path={schema}")


def test_a_host_killed_mid_ingest_leaves_the_other_serving_and_the_ingest_resumes(
        deployment: Deployment, postgres: PostgresServer, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURES / "docs", corpus)
    env = {**os.environ, **deployment.env, "GOVDATA_HOME": str(deployment.root / "k"), "OMP_WAIT_POLICY": "PASSIVE"}
    schema = deployment.env["GOVDATA_STATE__POSTGRES_SCHEMA"]
    with owner_connection_to(postgres, "postgres", schema) as con:
        def passages() -> int:
            return int(con.execute("SELECT count(*) FROM contents WHERE collection = 'passages'").fetchone()[0])

        def recorded() -> int:  # files the host's manifest has recorded as stored (after their passages)
            manifest = deployment.root / "k" / "manifest.sqlite"
            if not manifest.is_file():
                return 0
            with contextlib.closing(sqlite3.connect(f"file:{manifest}?mode=ro", uri=True, timeout=5)) as db:
                try:
                    return int(db.execute("SELECT count(*) FROM sources").fetchone()[0])
                except sqlite3.OperationalError:  # the table is not made yet, or the writer holds a lock
                    return 0

        before = passages()
        process = subprocess.Popen([*GOVDATA, "ingest", str(corpus)], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        deadline = time.time() + 300
        # a file's passages are stored before its manifest row: waiting for passages alone could kill the run
        # between the two, and then no file is recorded as done and the resumed run skips none
        while time.time() < deadline and process.poll() is None and (passages() == before or recorded() == 0):
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)  # after its first file landed, mid-run
        process.wait(timeout=60)
        assert process.returncode == -signal.SIGKILL, "the ingest ended before it could be killed"
        assert deployment.search("b") and deployment.sql("b")  # the other host keeps serving
        resumed = deployment.run("k", "ingest", str(corpus), "--json")
        assert isinstance(resumed, dict) and resumed["files_failed"] == 0 and resumed["files_skipped"] >= 1, resumed
        again = deployment.run("k", "ingest", str(corpus), "--json")
        assert isinstance(again, dict) and again["added"] == 0 and again["updated"] == 0, again
    assert deployment.verify("b")["ok"]



def test_the_replicas_compose_file_runs_two_apps_on_one_state_behind_a_proxy() -> None:
    import yaml

    from core.settings import Settings
    from tests.e2e.test_deploy import setting_variables

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!reset", lambda loader, node: [])
    deploy = Path(__file__).resolve().parents[2] / "deploy"
    services = yaml.load((deploy / "compose.replicas.yaml").read_text(encoding="utf-8"), Loader=Loader)["services"]
    assert set(services) == {"app", "app2", "proxy"} and services["app2"]["extends"]["service"] == "app"
    for name in ("app", "app2"):
        env = services[name]["environment"]
        assert {k for k in env if k.startswith("GOVDATA_")} <= setting_variables(Settings)
        assert "@postgres:5432/" in env["GOVDATA_STATE__POSTGRES_DSN"] and services[name]["ports"] == []
    assert "govdata-home-2:/var/lib/govdata" in services["app2"]["volumes"]
    proxy = (deploy / "nginx.conf").read_text(encoding="utf-8")
    assert "server app:7860" in proxy and "server app2:7860" in proxy and "ip_hash" in proxy
