"""The web app under load: N simulated users on 127.0.0.1 for a fixed time, through Gradio's own client.

    python bench/load.py --users 50 --seconds 120 --out bench/results/load-50.json

What it does, all for real except the model: a fresh GOVDATA_HOME with the bundled sample corpus and two
approved tables; a users file with N users (citizens and civil servants); `govdata serve` as a separate
process with the settings a deployment would use for a model server (`GOVDATA_LLM__PROVIDER=openai`),
pointed at bench/fake_model.py (fixed latency, so the run measures our code, not the model; pass
`--model-url` to use a real server instead). Each user signs in with gradio_client and loops: a dataset
search, an SQL run, or a cited answer (streamed), with a short think time. Afterwards: p50/p95 per kind, the
errors, the receipts the app wrote against the requests made, and `audit verify` over the chain.

    python bench/load.py --users 20 --seconds 120 --replicas 2 --out bench/results/load-replicas.json

With `--replicas 2` (issue 34) the run starts a PostgreSQL cluster (Debian's packages, as the e2e tests do) and a
`chroma run`, prepares the state through the first replica's home (shared state, approved tables on the
PostgreSQL engine, users in the state's table), and starts one `govdata serve` per replica, each with its own
GOVDATA_HOME and port; user n talks to replica n mod R. Reported per replica as well; the receipts are counted
and the one chain verified in the shared state.
"""

import argparse
import contextlib
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.policy.users import hash_password  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GOVDATA = [sys.executable, "-m", "assistant.cli"]
ACTION_OF = {"search": "datasets.search", "run": "sql.run", "ask": "ask"}
SEARCHES = ["air quality", "空气质量", "population by country", "311 service requests", "公司登记", "budget",
            "weather", "交通", "school enrollment", "GDP"]
QUESTIONS = ["政府信息公开申请的答复期限是多少？", "What is the Open Data Policy?",
             "行政机关应当主动公开哪些政府信息？",
             "What does the open data policy require agencies to do with their data inventories?",
             "What is an open license?"]
RUNS = ["SELECT year, avg(pm2_5) AS pm25 FROM beijing_pm25 GROUP BY year ORDER BY year",
        "SELECT month, max(temp) AS hottest FROM beijing_pm25 WHERE year = 2014 GROUP BY month ORDER BY month",
        "SELECT cbwd, count(*) AS hours FROM beijing_pm25 GROUP BY cbwd ORDER BY hours DESC"]
WEIGHTS = {"search": 0.5, "run": 0.3, "ask": 0.2}
NOTHING = "No dataset matches this need."  # "weather", "GDP" (and "school enrollment" for a citizen) meet no record


@dataclass
class Outcome:
    kind: str
    user: str
    seconds: float
    ok: bool
    error: str = ""


@dataclass
class Run:
    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def user_records(users: int) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """N users (3 of 5 citizens, the rest civil servants): passwords and the users-file records, by name."""
    passwords, records = {}, {}
    for n in range(users):
        name, password = f"load{n:02d}", f"pw-{n:02d}"
        salt, digest = hash_password(password)
        records[name] = {"role": "citizen" if n % 5 < 3 else "civil_servant", "salt": salt, "password_hash": digest}
        passwords[name] = password
    return passwords, records


def prepare_home(home: Path, users: int, env: dict[str, str]) -> dict[str, str]:
    """Sample corpus, two approved tables, N users: the passwords by user name."""
    tables = ROOT / "data" / "tables"
    steps = [[*GOVDATA, "ingest", str(ROOT / "data" / "sample")],
             [*GOVDATA, "datasets", "add", str(tables / "beijing_pm25" / "beijing_pm25.csv"),
              "--describe", str(tables / "beijing_pm25" / "describe.json"), "--access-level", "public"],
             [*GOVDATA, "datasets", "add", str(tables / "nyc311" / "nyc311_service_requests.csv"),
              "--name", "nyc311_service_requests", "--describe", str(tables / "nyc311" / "describe.json")]]
    for step in steps:
        done = subprocess.run(step, env=env, capture_output=True, timeout=1800)
        if done.returncode:
            raise SystemExit(f"{' '.join(step[3:5])} failed: {done.stderr.decode(errors='replace')[-1500:]}")
    passwords, records = user_records(users)
    if env.get("GOVDATA_STATE__POSTGRES_DSN"):  # shared state: the users are rows of the state's table
        from assistant.policy.users import User, UserTable, user_store

        table = user_store(settings_of(env))
        assert isinstance(table, UserTable)
        for name, record in records.items():
            table.put(User(name, record["role"], record["salt"], record["password_hash"]))
    else:
        (home / "users.json").write_text(json.dumps(records), encoding="utf-8")
    return passwords


def settings_of(env: dict[str, str]) -> Any:
    """The Settings a process with this environment reads."""
    from core.settings import Settings

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return Settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def start_chroma(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    process = subprocess.Popen([str(chroma), "run", "--path", str(folder), "--host", "127.0.0.1", "--port",
                                str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2).close()  # noqa: S310
            return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("chroma run did not start")


def shared_env(postgres: Any, chroma_url: str) -> dict[str, str]:
    """Settings of a deployment whose replicas share one state (issue 34)."""
    return {"GOVDATA_STATE__POSTGRES_DSN": postgres.owner_dsn,
            "GOVDATA_STATE__POSTGRES_PASSWORD_ENV": postgres.password_env, "GOVDATA_CHROMA__URL": chroma_url,
            "GOVDATA_SQL__ENGINE": "postgres", "GOVDATA_SQL__POSTGRES_DSN": postgres.owner_dsn,
            "GOVDATA_SQL__POSTGRES_PASSWORD_ENV": postgres.password_env,
            "GOVDATA_SQL__POSTGRES_READER_DSN": postgres.reader_dsn, postgres.password_env: "owner-secret",
            "GOVDATA_LLM__WARM_UP": "false"}


def wait_for(url: str, process: subprocess.Popen[bytes], timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"govdata serve exited with code {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).close()  # noqa: S310  (our own 127.0.0.1 server)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"govdata serve did not answer at {url} within {timeout_s:.0f} s")


def one_request(client: Any, kind: str, rng: random.Random) -> tuple[bool, str]:
    """One user action through the app's API; ok when the reply holds what the page would show."""
    if kind == "search":  # a card, or the page's answer for a need no record meets (issue 28)
        cards, _pick = client.predict(rng.choice(SEARCHES), "", "", "", None, api_name="/find")
        return "dataset-card" in str(cards) or NOTHING in str(cards), _error(cards)
    if kind == "run":
        reply = client.predict(rng.choice(RUNS), api_name="/run")
        table = reply[1]
        rows = table.get("data") if isinstance(table, dict) else None
        return bool(rows), _error(reply[0])
    chat, _message = client.predict(rng.choice(QUESTIONS), [], "docs", api_name="/ask")
    last = str(chat[-1]["content"]) if chat else ""
    return "<details><summary>[1]" in last, _error(last)  # a cited answer shows its citations


def warm_up(url: str, name: str, password: str) -> None:
    """One request of each kind before the window (loads the embedding model, opens the store), not counted."""
    from gradio_client import Client

    client = Client(url, auth=(name, password), verbose=False, download_files=False)
    for kind in WEIGHTS:
        ok, error = one_request(client, kind, random.Random(0))
        if not ok or error:
            raise SystemExit(f"warm-up {kind} failed: {error or 'no result'}")


def _error(shown: Any) -> str:
    """The page's error line (assistant/ui/common.error_markdown), if the reply shows one."""
    text = str(shown)
    marker = next((m for m in ("error: ", "错误：", "错误: ") if m in text), None)
    return text[text.index(marker):][:200] if marker else ""


def simulate(url: str, name: str, password: str, deadline: list[float], run: Run, seed: int,
             ready: threading.Barrier) -> None:
    """Sign in, wait for every user to be ready, then act until deadline[0] (set when all have signed in)."""
    from gradio_client import Client

    rng = random.Random(seed)
    client = Client(url, auth=(name, password), verbose=False, download_files=False)
    ready.wait()
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    while time.monotonic() < deadline[0]:
        kind = rng.choices(kinds, weights)[0]
        started = time.perf_counter()
        try:
            ok, error = one_request(client, kind, rng)
        except Exception as exc:  # noqa: BLE001  (a load test counts every failure, whatever it is)
            ok, error = False, f"{type(exc).__name__}: {exc}"[:200]
        run.add(Outcome(kind, name, time.perf_counter() - started, ok and not error, error))
        time.sleep(rng.uniform(0.5, 2.0))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))], 3) if ordered else 0.0


def audit_counts(env: dict[str, str], users: set[str], since: str) -> tuple[dict[str, int], dict[str, Any]]:
    from assistant.audit import open_log

    log = open_log(settings_of(env))
    counts: dict[str, int] = {}
    for receipt in log.recent(since=since, limit=10_000_000):
        if receipt.user in users:
            counts[receipt.action] = counts.get(receipt.action, 0) + 1
    verification = log.verify()
    return counts, {"ok": verification.ok, "entries": verification.entries}


def summarize(run: Run, users: set[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in WEIGHTS:
        group = [o for o in run.outcomes if o.kind == kind and (users is None or o.user in users)]
        seconds = [o.seconds for o in group]
        errors = [o.error or "no result" for o in group if not o.ok]
        out[kind] = {"requests": len(group), "errors": len(errors), "p50_s": percentile(seconds, 0.5),
                     "p95_s": percentile(seconds, 0.95), "max_s": round(max(seconds, default=0.0), 3),
                     "first_errors": sorted(set(errors))[:5]}
    return out


def start_servers(env: dict[str, str], homes: list[Path], work: Path) -> tuple[list[subprocess.Popen[bytes]],
                                                                              list[str]]:
    servers, urls = [], []
    for n, home in enumerate(homes):
        port = free_port()
        log = (work / f"serve{n}.log").open("wb")
        servers.append(subprocess.Popen([*GOVDATA, "serve", "--port", str(port)],
                                        env={**env, "GOVDATA_HOME": str(home)}, stdout=log, stderr=log, cwd=ROOT,
                                        start_new_session=True))
        urls.append(f"http://127.0.0.1:{port}/")
    return servers, urls


def stop(servers: list[subprocess.Popen[bytes]]) -> None:
    for server in servers:
        os.killpg(server.pid, signal.SIGINT)
    for server in servers:
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def drive(urls: list[str], passwords: dict[str, str], seconds: float) -> tuple[Run, str, float]:
    """Warm every replica up, then let each user act on replica (n mod R) for `seconds`."""
    for n, url in enumerate(urls):
        name = list(passwords)[n % len(passwords)]
        warm_up(url, name, passwords[name])
    time.sleep(1.1)  # receipts are stamped to the second: the window's start is strictly after warm-up
    run = Run()
    ready = threading.Barrier(len(passwords) + 1)
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    deadline = [float("inf")]  # set once everyone has signed in
    threads = [threading.Thread(target=simulate, args=(urls[n % len(urls)], name, password, deadline, run, n, ready),
                                daemon=True) for n, (name, password) in enumerate(passwords.items())]
    for thread in threads:
        thread.start()
    ready.wait(timeout=600)
    deadline[0] = time.monotonic() + seconds
    window = time.perf_counter()
    for thread in threads:
        thread.join(timeout=seconds + 600)
    return run, since, time.perf_counter() - window


def main() -> None:  # noqa: PLR0915  (one scripted run, top to bottom)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--first-token-s", type=float, default=1.5, help="fake model: time to first token")
    parser.add_argument("--total-s", type=float, default=4.0, help="fake model: time per answer")
    parser.add_argument("--model-url", help="a real OpenAI-compatible server instead of the fake one")
    parser.add_argument("--model-workers", type=int, default=8, help="GOVDATA_LLM__MAX_CONCURRENT")
    parser.add_argument("--replicas", type=int, default=1, help="app servers on one shared state (issue 34)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="govdata-load-"))
        homes = [work / f"home{n}" for n in range(args.replicas)]
        for home in homes:
            home.mkdir()
        fake = None
        if args.model_url is None:
            from bench.fake_model import serve

            model_port = free_port()
            fake = serve(model_port, args.first_token_s, args.total_s)
            stack.callback(fake.shutdown)
            args.model_url = f"http://127.0.0.1:{model_port}/v1"
        env = {**os.environ, "GOVDATA_HOME": str(homes[0]), "GOVDATA_LLM__PROVIDER": "openai",
               "GOVDATA_LLM__BASE_URL": args.model_url, "GOVDATA_LLM__MAX_CONCURRENT": str(args.model_workers),
               "GOVDATA_USER": "steward"}
        if args.replicas > 1:
            from tests.e2e.conftest import postgres_cluster

            chroma, chroma_url = start_chroma(work / "chroma-server")
            stack.callback(chroma.terminate)
            env |= shared_env(stack.enter_context(postgres_cluster()), chroma_url)
        else:
            env["GOVDATA_USERS_FILE"] = str(homes[0] / "users.json")
        started = time.perf_counter()
        passwords = prepare_home(homes[0], args.users, {k: v for k, v in env.items() if k != "GOVDATA_USERS_FILE"})
        setup_s = time.perf_counter() - started
        servers, urls = start_servers(env, homes, work)
        try:
            for url, server in zip(urls, servers, strict=True):
                wait_for(url, server)
            run, since, window_s = drive(urls, passwords, args.seconds)
        finally:
            stop(servers)
        counts, verification = audit_counts(env, set(passwords), since)
    made = {ACTION_OF[k]: sum(1 for o in run.outcomes if o.kind == k) for k in WEIGHTS}
    report = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
              "command": " ".join(sys.argv), "users": args.users, "seconds": args.seconds,
              "replicas": args.replicas, "state": "postgres" if args.replicas > 1 else "embedded",
              "model": args.model_url if fake is None else
              f"bench/fake_model.py (first token {args.first_token_s} s, answer {args.total_s} s)",
              "setup_s": round(setup_s, 1), "window_s": round(window_s, 1),
              "requests": len(run.outcomes), "errors": sum(not o.ok for o in run.outcomes),
              "by_kind": summarize(run), "requests_by_action": made,
              "by_replica": {url: summarize(run, {u for n, u in enumerate(passwords) if n % len(urls) == r})
                             for r, url in enumerate(urls)} if len(urls) > 1 else None,
              "receipts_by_action": {a: counts.get(a, 0) for a in made}, "receipts_all": counts,
              "receipts_match": all(counts.get(a, 0) == n for a, n in made.items()),
              "audit_verify": verification}
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
