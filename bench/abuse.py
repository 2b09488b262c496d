"""Expensive queries from many clients must not slow the others: 8 clients send the queries of issue 14 (cross
joins of billions of rows, an endless recursive CTE, repeat() of a gigabyte, LATERAL generate_series) while 2
clients run ordinary queries; the ordinary queries' p95 is compared with the same 2 clients on an idle engine.

    python bench/abuse.py [--seconds 20]

Ordinary clients pause 0.25 s between queries (a person at the workbench pauses far longer); the abusive ones
send in a tight loop and meet the per-user rate (GOVDATA_SQL__MAX_QUERIES_PER_USER_PER_MINUTE). Clients are
threads calling `Services.sql_run`, the use case the web app's workbench calls (one Services, so one
query gate, as in the app), against synthetic tables in a temporary GOVDATA_HOME. Bounded: a fixed time, then
every client stops. Prints JSON.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402

from assistant.services import Services  # noqa: E402
from core.errors import GovDataError  # noqa: E402
from core.settings import Settings  # noqa: E402

EXPENSIVE = [
    "SELECT count(*) FROM city a, city b, city c",
    "SELECT count(*) FROM tiny a, tiny b, tiny c, tiny d, tiny e, tiny f, tiny g, tiny h",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
    "SELECT repeat('x', 1000000000) FROM city LIMIT 1",
    "SELECT co.name, g.i FROM city AS co, LATERAL generate_series(1, co.population) AS g(i)",
]
NORMAL_PAUSE_S = 0.25  # ordinary clients think between queries; the abusive ones send in a tight loop
HEAVY = "SELECT count(*) FROM city a, city b WHERE a.name < b.name"  # 16.6 million pairs: allowed, and heavy
NORMAL = [
    "SELECT name, population FROM city WHERE population > 90000 ORDER BY population DESC LIMIT 20",
    "SELECT population % 10 AS bucket, count(*) AS n FROM city GROUP BY bucket ORDER BY bucket",
    "SELECT a.name FROM city a JOIN city b ON a.id = b.id + 1 WHERE a.population < 1000",
]


def tables(folder: Path) -> Path:
    con = duckdb.connect()
    con.execute(f"COPY (SELECT range AS id, 'city ' || range AS name, (range * 37) % 100000 AS population "
                f"FROM range(4079)) TO '{folder / 'city.parquet'}' (FORMAT parquet)")
    con.execute(f"COPY (SELECT range AS id FROM range(20)) TO '{folder / 'tiny.parquet'}' (FORMAT parquet)")
    return folder


def client(services: Services, user: str, queries: list[str], stop: threading.Event, latencies: list[float],
           outcomes: Counter[str], pause: float) -> None:
    n = 0
    while not stop.wait(pause):
        sql = queries[n % len(queries)]
        n += 1
        started = time.perf_counter()
        try:
            services.sql_run(sql, role="citizen", user=user)
            outcome = "ran"
        except GovDataError as exc:
            text = str(exc)
            outcome = ("busy" if text.startswith("busy") else "timeout" if "longer than" in text
                       else "refused before running")
        latencies.append(time.perf_counter() - started)
        outcomes[outcome] += 1


def phase(services: Services, seconds: float, abusers: int, expensive: list[str]) -> dict[str, object]:
    stop = threading.Event()
    normal: list[float] = []
    abusive: list[float] = []
    normal_outcomes: Counter[str] = Counter()
    abusive_outcomes: Counter[str] = Counter()
    threads = [threading.Thread(target=client, args=(services, f"normal{i}", NORMAL, stop, normal, normal_outcomes,
                                                      NORMAL_PAUSE_S)) for i in range(2)]
    threads += [threading.Thread(target=client, args=(services, f"abuser{i}", expensive[i % len(expensive):] +
                                                      expensive[:i % len(expensive)], stop, abusive,
                                                      abusive_outcomes, 0.0)) for i in range(abusers)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(60)
    return {"normal_queries": len(normal), "normal_p50_ms": quantile(normal, 0.5),
            "normal_p95_ms": quantile(normal, 0.95), "normal_outcomes": dict(normal_outcomes),
            "abusive_queries": len(abusive), "abusive_outcomes": dict(abusive_outcomes)}


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = tables(Path(temp))
        services = Services(Settings(home=Path(temp) / "home"))
        for name in ("city", "tiny"):
            services.sql.approved.add(folder / f"{name}.parquet")
        idle = phase(services, args.seconds / 2, 0, EXPENSIVE)
        loaded = phase(services, args.seconds, 8, EXPENSIVE)
        heavy = phase(services, args.seconds, 8, [*EXPENSIVE, HEAVY])
        verified = services.audit.verify()
    print(json.dumps({
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "idle": idle, "under_abuse": loaded, "p95_ratio": ratio(loaded, idle),
        "with_a_heavy_allowed_query": heavy, "p95_ratio_with_heavy": ratio(heavy, idle),
        "receipts_verify": verified.ok, "receipts": verified.entries,
    }, indent=2))


def ratio(loaded: dict[str, object], idle: dict[str, object]) -> float:
    return round(float(str(loaded["normal_p95_ms"])) / max(float(str(idle["normal_p95_ms"])), 0.1), 2)


if __name__ == "__main__":
    main()
