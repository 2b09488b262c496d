"""deploy/compose.yaml: it parses, names only real settings, and its app settings start the real app against the
services this session starts (a Chroma server, PostgreSQL, llama-cpp-python's OpenAI-compatible server), with
the compose host names swapped for their 127.0.0.1 ports."""

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from pydantic import BaseModel

from assistant.llm.model_file import verified_model
from assistant.sql.postgres import dsn_with_password
from core.settings import Settings
from tests.e2e.conftest import FIXTURES, GOVDATA, PostgresServer, free_port, govdata

pytestmark = pytest.mark.e2e

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose.yaml"


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def setting_variables(model: type[BaseModel], prefix: str = "GOVDATA_") -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            names |= setting_variables(field.annotation, f"{prefix}{name.upper()}__")
        else:
            names.add(f"{prefix}{name.upper()}")
    return names


def test_compose_runs_four_services_and_names_only_real_settings() -> None:
    services = compose()["services"]
    assert set(services) == {"app", "chroma", "postgres", "model"}
    env = services["app"]["environment"]
    unknown = {k for k in env if k.startswith("GOVDATA_")} - setting_variables(Settings)
    assert unknown == set()
    assert env["GOVDATA_CHROMA__URL"] == "http://chroma:8000" and "8000" in services["chroma"]["command"]
    assert "@postgres:5432/" in env["GOVDATA_SQL__POSTGRES_DSN"] and env["GOVDATA_SQL__ENGINE"] == "postgres"
    assert env["GOVDATA_LLM__BASE_URL"] == "http://model:8080/v1" and "8080" in services["model"]["command"]
    for variable in ("GOVDATA_SQL__POSTGRES_PASSWORD_ENV", "GOVDATA_SQL__POSTGRES_READER_PASSWORD_ENV"):
        assert env[variable] in env  # the password variables the settings name are passed to the app
    assert (COMPOSE.parent / "postgres-init.sh").is_file() and (COMPOSE.parent / "Dockerfile").is_file()


def _local(env: dict[str, str], chroma: str, postgres: PostgresServer, model_port: int) -> dict[str, str]:
    """The app's compose settings pointed at this session's services."""
    swaps = {"http://chroma:8000": chroma, "@postgres:5432/gov": f"@127.0.0.1:{postgres.port}/postgres",
             "http://model:8080": f"http://127.0.0.1:{model_port}"}
    out = {}
    for key, value in env.items():
        text = str(value)
        for old, new in swaps.items():
            text = text.replace(old, new)
        out[key] = text
    out["PG_OWNER_PASSWORD"], out["PG_READER_PASSWORD"] = "owner-secret", "reader-secret"
    return out


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    """Until URL answers; a process that exits fails the test with the end of its log (logs go to files: a
    full stderr pipe would stall the server)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args!r} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(1)
    pytest.fail(f"{url} did not answer within {seconds:.0f} s")


def test_the_compose_settings_start_the_app_against_real_services(
        tmp_path: Path, chroma_url: str, postgres: PostgresServer) -> None:
    home = tmp_path / "home"
    model_file = verified_model(Settings(home=home).models_dir)  # assembled from the bundled model's packages
    model_port, app_port = free_port(), free_port()
    model = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(model_file), "--host",
                              "127.0.0.1", "--port", str(model_port), "--n_ctx", "2048", "--n_threads", "2",
                              "--model_alias", "local-qwen"], stdout=subprocess.DEVNULL,
                             stderr=(tmp_path / "model.log").open("wb"),
                             env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})
    env = _local(compose()["services"]["app"]["environment"], chroma_url, postgres, model_port)
    env["GOVDATA_HOME"] = str(home)
    app = None
    try:
        _wait_for(f"http://127.0.0.1:{model_port}/v1/models", model, tmp_path / "model.log", 180)
        shutil.copy(FIXTURES / "sql" / "permits.csv", tmp_path / "permits.csv")
        added = govdata(home, "datasets", "add", str(tmp_path / "permits.csv"), "--name", "permits", env=env)
        assert added.code == 0, added.stderr
        app = subprocess.Popen([*GOVDATA, "serve", "--port", str(app_port)], stdout=subprocess.DEVNULL,
                               stderr=(tmp_path / "app.log").open("wb"), env={**os.environ, **env})
        _wait_for(f"http://127.0.0.1:{app_port}/", app, tmp_path / "app.log", 180)
        ran = govdata(home, "sql", "run", "SELECT count(*) AS n FROM permits", "--json", env=env)
        assert ran.code == 0 and ran.json()["rows"] == [[5]], ran.stderr  # type: ignore[index]
        owner = dsn_with_password(postgres.owner_dsn, postgres.password_env)
        with psycopg.connect(owner) as con:  # the table really lives in PostgreSQL, the vectors in Chroma
            assert con.execute("SELECT count(*) FROM govdata.permits").fetchone() == (5,)
        found = govdata(home, "datasets", "search", "permits issued", "--json", env=env)
        assert found.code == 0 and "govdata-sql:permits" in found.stdout, found.stderr
    finally:
        for process in (app, model):
            if process is not None:
                process.terminate()
                process.wait(timeout=60)
