"""EX of the same SQL on DuckDB and on PostgreSQL: does the PostgreSQL engine change what analysts get?

    python bench/engines.py bench/results/sql-heldout-values-en.json bench/results/sql-heldout-values-zh.json \
        --out bench/results/engines-heldout.json

Replays the final SQL `govdata sql ask` wrote in earlier bench/sql.py runs (the model's output does not depend
on the engine; only execution does): each statement is guarded as the ad-hoc database's caller would be, run
on the DuckDB copy and, transpiled by sqlglot, on a real PostgreSQL (started here from Debian's packages, the
tables loaded with the product's own loader), and both results are scored against the gold rows from SQLite.
What this does not measure: a retry after a PostgreSQL-only error would show the model another message.
"""

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.evaluation import gold_is_ordered, rows_match  # noqa: E402
from assistant.sql.approved import full_approval  # noqa: E402
from assistant.sql.guard import SqlGuard, SqlRejected  # noqa: E402
from assistant.sql.postgres import PostgresRunner, PostgresTarget, dsn_with_password, load_tables  # noqa: E402
from assistant.sql.runner import QueryFailed, QueryRunner, RunnerLimits  # noqa: E402
from bench.sql import sqlite_rows, wilson  # noqa: E402
from ingest.tables import adhoc_database  # noqa: E402
from tests.e2e.conftest import postgres_cluster  # noqa: E402


def replay(items: list[dict[str, Any]], split: Path, cache: Path, owner: str, reader: str) -> list[dict[str, Any]]:
    guard, limits, loaded = SqlGuard(row_cap=100_000), RunnerLimits(row_cap=100_000, timeout_s=30), {}
    out = []
    for item in items:
        db = item["db"]
        if db not in loaded:
            database, tables = adhoc_database(split / "database" / db / f"{db}.sqlite", cache)
            target = PostgresTarget(owner, reader, schema=f"spider_{db}".lower())
            load_tables(target, database, tables)
            loaded[db] = (database, tables, target)
        database, tables, target = loaded[db]
        gold = [list(r) for r in sqlite_rows(split / "database" / db / f"{db}.sqlite", item["gold"])]
        ordered = gold_is_ordered(item["gold"])
        verdict: dict[str, Any] = {"id": item["id"], "language": item["language"], "db": db}
        try:
            query = guard.guard(item["sql"], full_approval(tables))
        except SqlRejected:
            query = None
        for engine, runner in (("duckdb", QueryRunner(database, limits)), ("postgres", PostgresRunner(target, limits))):
            started = time.perf_counter()
            try:
                rows = runner.run(query).rows if query is not None else None
                verdict[engine] = rows is not None and rows_match(gold, rows, ordered)
                verdict[f"{engine}_error"] = None if query is not None else "guard"
            except QueryFailed as exc:
                verdict[engine], verdict[f"{engine}_error"] = False, str(exc)[:200]
            verdict[f"{engine}_ms"] = round((time.perf_counter() - started) * 1000, 2)
        out.append(verdict)
    return out


def summarize(verdicts: list[dict[str, Any]]) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for language in sorted({v["language"] for v in verdicts}) + ["all"]:
        group = [v for v in verdicts if language in ("all", v["language"])]
        row: dict[str, Any] = {"questions": len(group)}
        for engine in ("duckdb", "postgres"):
            right = sum(v[engine] for v in group)
            times = sorted(v[f"{engine}_ms"] for v in group)
            row[engine] = {"ex": round(right / len(group), 3), "ci95": wilson(right, len(group)),
                           "ms_p50": times[len(times) // 2], "ms_p95": times[int(len(times) * 0.95)]}
        row["only_duckdb_right"] = sum(v["duckdb"] and not v["postgres"] for v in group)
        row["only_postgres_right"] = sum(v["postgres"] and not v["duckdb"] for v in group)
        report[language] = row
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, nargs="+", help="bench/sql.py result files (per_item with sql)")
    parser.add_argument("--split", type=Path, default=Path("../shared/data/text2sql/spider_dev_split"))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    items = [i for f in args.results for i in json.loads(f.read_text(encoding="utf-8"))["per_item"]
             if i.get("system") == "govdata"]
    started = time.perf_counter()
    with postgres_cluster() as server:
        owner = dsn_with_password(server.owner_dsn, server.password_env)
        verdicts = replay(items, args.split, args.out.parent / ".engines-cache", owner, server.reader_dsn)
    report = {"machine": f"{platform.machine()}, {platform.python_version()}", "command": " ".join(sys.argv),
              "seconds": round(time.perf_counter() - started, 1), "report": summarize(verdicts),
              "disagreements": [v for v in verdicts if v["duckdb"] != v["postgres"]]}
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(report["report"], ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
