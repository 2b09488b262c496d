"""How many legitimate analyst queries the guard lets through: the gold SQL of a Spider-format split (written by
other people, for other purposes) checked against an approval of all tables of its database.

    python bench/guard.py --split ../shared/data/text2sql/spider_dev_split

Also runs every allowed query on the DuckDB copy to count rewrites that fail to execute.
"""

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.sql.approved import full_approval  # noqa: E402
from assistant.sql.guard import SqlGuard  # noqa: E402
from assistant.sql.runner import (  # noqa: E402
    QueryFailed,
    QueryRunner,
    RunnerLimits,
    _plan,
    locked_connection,
)
from ingest.tables import adhoc_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", type=Path, default=Path("../shared/data/text2sql/spider_dev_split"))
    args = parser.parse_args()
    guard, reasons, failed_runs, cost_refused = SqlGuard(row_cap=100_000), Counter(), 0, 0
    estimates: list[int] = []
    plan_ms: list[float] = []
    q_errors: list[float] = []  # max(estimated/actual, actual/estimated) result rows: 1 is exact
    rows = [json.loads(line) for line in (args.split / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    unique = list(dict.fromkeys((r["db_id"], r["gold_sql"]) for r in rows))
    with tempfile.TemporaryDirectory() as cache:
        for db_id, sql in unique:
            database, tables = adhoc_database(args.split / "database" / db_id / f"{db_id}.sqlite", Path(cache))
            approval = full_approval(tables)
            verdict = guard.check(sql, approval)
            if not verdict.allowed or verdict.query is None:
                sqlite_text = "write text in single quotes" in verdict.reason
                reasons["SQLite double-quoted text (not valid in DuckDB)" if sqlite_text else verdict.reason[:90]] += 1
                continue
            peak, expected = _timed_plan(database, verdict.query.sql, plan_ms)
            estimates.append(peak)
            try:
                actual = QueryRunner(database).run(verdict.query).row_count
                q_errors.append(max(expected, 1) / max(actual, 1) if expected >= actual else
                                max(actual, 1) / max(expected, 1))
            except QueryFailed as exc:
                failed_runs += 1
                cost_refused += "would combine about" in str(exc)
    allowed = len(unique) - sum(reasons.values())
    valid = len(unique) - reasons["SQLite double-quoted text (not valid in DuckDB)"]
    print(json.dumps({"queries": len(unique), "allowed": allowed, "allowed_rate": round(allowed / len(unique), 3),
                      "allowed_rate_of_duckdb_valid": round(allowed / valid, 3),
                      "allowed_but_failed_on_duckdb": failed_runs, "rejections": reasons.most_common(),
                      "refused_by_cost_check": cost_refused,
                      "max_estimated_rows": RunnerLimits().max_estimated_rows,
                      "largest_estimate_of_a_gold_query": max(estimates, default=0),
                      "cost_check_ms_p50_p95": [_quantile(plan_ms, 0.5), _quantile(plan_ms, 0.95)],
                      "result_estimate_q_error_p50_p95_max": [_quantile(q_errors, 0.5), _quantile(q_errors, 0.95),
                                                              round(max(q_errors, default=0), 1)]},
                     indent=2))


def _timed_plan(database: Path, sql: str, times: list[float]) -> tuple[int, int]:
    """The plan's estimated peak and result rows for one query; how long reading the plan took (the check's
    cost) goes to `times`."""
    import time

    con = locked_connection(database, RunnerLimits())
    try:
        started = time.perf_counter()
        facts = _plan(con, sql)
        times.append((time.perf_counter() - started) * 1000)
    finally:
        con.close()
    return (facts.estimated_rows, facts.result_rows) if facts else (0, 0)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2) if ordered else 0.0


if __name__ == "__main__":
    main()
