"""What the engine wall costs (issue 26): building an access profile's DuckDB file, its size, and the time a query
takes on it compared with the approved database.

    python bench/walls.py --rows 1000000 --out bench/results/walls.json

One table of ROWS rows and 10 columns (3 sensitive) is registered; the citizen's profile (sensitive columns
denied) and the civil servant's (masked) are built from it; then the same guarded queries run for each role and
for the steward (who reads the approved database itself) on the real runner, several times each.
"""

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.sql.service import SqlService  # noqa: E402
from core.settings import Settings  # noqa: E402

QUERIES = [
    "SELECT count(*) AS n FROM people",
    "SELECT city, count(*) AS n, avg(age) AS age FROM people GROUP BY city ORDER BY n DESC",
    "SELECT id, city, age FROM people WHERE age > 60 ORDER BY id LIMIT 100",
]


def make_table(folder: Path, rows: int) -> tuple[Path, Path]:
    source, describe = folder / "people.parquet", folder / "people.describe.json"
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT i AS id, ['north','south','east','west'][i % 4 + 1] AS city, 18 + i % 70 AS age,
        DATE '2020-01-01' + (i % 1500)::INTEGER AS joined, i % 1000 AS district, (i * 7) % 97 AS score,
        'note ' || (i % 5000) AS note, 'Person ' || i AS name, lpad((i % 999999999)::VARCHAR, 9, '0') AS ssn,
        30000 + (i * 13) % 90000 AS salary FROM range({rows}) t(i)) TO '{source}' (FORMAT parquet)""")
    con.close()
    describe.write_text(json.dumps({"columns": {c: {"sensitive": True} for c in ("name", "ssn", "salary")}}))
    return source, describe


def timed(action, repeats: int = 1) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        out.append(time.perf_counter() - started)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="govdata-walls-"))
    source, describe = make_table(folder, args.rows)
    service = SqlService(Settings(home=folder / "home"), lambda: None,  # type: ignore[arg-type,return-value]
                         lambda texts: None, lambda paths: None)  # type: ignore[arg-type,return-value]
    service.approved.add(source, name="people", describe=describe)
    report: dict[str, object] = {"rows": args.rows, "machine": f"{platform.machine()}, {platform.processor()}",
                                 "approved_bytes": service.approved.database.stat().st_size, "roles": {}}
    for role in ("citizen", "civil_servant", "data_steward"):
        build = timed(lambda r=role: service.role_context(r))[0]  # type: ignore[misc]
        database = service.role_context(role).database
        per_query = {sql: statistics.median(timed(lambda s=sql, r=role: service.run(s, role=r),  # type: ignore[misc]
                                                  args.repeats)) for sql in QUERIES}
        report["roles"][role] = {"build_s": round(build, 3), "bytes": database.stat().st_size,  # type: ignore[index]
                                 "own_file": database != service.approved.database,
                                 "median_query_s": {k: round(v, 4) for k, v in per_query.items()}}
        print(role, json.dumps(report["roles"][role]), flush=True)  # type: ignore[index]
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
