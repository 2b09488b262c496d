"""What the REST API and MCP add to a call (issue 31): p50/p95 of a dataset search and of `sql run`, called in process
(`Services`, as the CLI and the web app call it), over HTTP through the REST API, and over HTTP as MCP tool calls
(the SDK's own client, one session), in one run against one `govdata serve` on 127.0.0.1.

    python bench/api.py [--calls 100] [--out bench/results/api.json]

A temporary GOVDATA_HOME gets the fixture catalogs (tests/fixtures/catalogs, real embedding model) and the permits
table. The server runs in its own process (so the client and the server do not share a GIL), with the token pace
and the per-user query pace off (one client in a tight loop would otherwise measure the pace: 300 queries a
minute is 200 ms a query); every call, in process or not, writes its audit receipt. Calls are sequential, after
5 warm-up calls each. Prints JSON.
"""

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import httpx2  # noqa: E402
from mcp import Client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from assistant.services import Services  # noqa: E402
from core.settings import Settings  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
QUERIES = ["wage and hour compliance", "child labor", "空气质量", "population by country", "farm labor contractors",
           "pension plan filings", "公园绿地", "government contracts"]
SQL = "SELECT kind, count(*) AS n, sum(fee) AS fees FROM permits GROUP BY kind ORDER BY kind"
WARM_UP = 5


def prepared_home(folder: Path) -> tuple[Services, str]:
    services = Services(Settings(home=folder, user="bench", sql={"max_queries_per_user_per_minute": 0}))  # type: ignore[arg-type]
    summary = services.ingest([FIXTURES / "catalogs"])
    assert not summary.failures, summary.failures
    services.add_tables(FIXTURES / "sql" / "permits.csv", describe=FIXTURES / "sql" / "permits.describe.json",
                        role="data_steward")
    return services, services.create_token("bench", "citizen", role="data_steward")[1]


def started(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "GOVDATA_HOME": str(home), "GOVDATA_LLM__WARM_UP": "false",
           "GOVDATA_API__REQUESTS_PER_MINUTE": "0", "GOVDATA_SQL__MAX_QUERIES_PER_USER_PER_MINUTE": "0",
           "OMP_WAIT_POLICY": "PASSIVE"}
    server = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("govdata serve did not start")


def timed(calls: int, call: Callable[[int], Any]) -> dict[str, float]:
    for n in range(WARM_UP):
        call(n)
    seconds = []
    for n in range(calls):
        start = time.perf_counter()
        call(n)
        seconds.append(time.perf_counter() - start)
    return summary(seconds)


async def timed_async(calls: int, call: Callable[[int], Awaitable[Any]]) -> dict[str, float]:
    for n in range(WARM_UP):
        await call(n)
    seconds = []
    for n in range(calls):
        start = time.perf_counter()
        await call(n)
        seconds.append(time.perf_counter() - start)
    return summary(seconds)


def summary(seconds: list[float]) -> dict[str, float]:
    ms = sorted(1000 * s for s in seconds)
    return {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1),
            "calls": len(ms)}


def in_process(services: Services, calls: int) -> dict[str, Any]:
    def search(n: int) -> Any:
        return services.search_datasets_page(QUERIES[n % len(QUERIES)], k=10, role="citizen", user="token:bench")

    def run(n: int) -> Any:
        return services.sql_run(SQL, role="citizen", user="token:bench")

    return {"search": timed(calls, search), "sql_run": timed(calls, run)}


def rest(url: str, token: str, calls: int) -> dict[str, Any]:
    with httpx.Client(base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=120) as http:
        def search(n: int) -> Any:
            answer = http.get("/datasets/search", params={"q": QUERIES[n % len(QUERIES)], "k": 10})
            answer.raise_for_status()

        def run(n: int) -> Any:
            http.post("/sql/run", json={"sql": SQL}).raise_for_status()

        return {"search": timed(calls, search), "sql_run": timed(calls, run)}


async def mcp(url: str, token: str, calls: int) -> dict[str, Any]:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120)
    async with Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
        async def search(n: int) -> Any:
            assert not (await client.call_tool("search_datasets", {"query": QUERIES[n % len(QUERIES)], "k": 10})
                        ).is_error

        async def run(n: int) -> Any:
            assert not (await client.call_tool("sql_run", {"sql": SQL})).is_error

        return {"search": await timed_async(calls, search), "sql_run": await timed_async(calls, run)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="govdata-bench-api-") as folder:
        services, token = prepared_home(Path(folder))
        server, url = started(Path(folder))
        try:
            report = {"in_process": in_process(services, args.calls), "rest_http": rest(url, token, args.calls),
                      "mcp_http": asyncio.run(mcp(url, token, args.calls))}
        finally:
            server.terminate()
            server.wait(timeout=30)
    report["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                         "processor": platform.processor()}
    report["queries"], report["sql"] = QUERIES, SQL
    text = json.dumps(report, ensure_ascii=False, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
