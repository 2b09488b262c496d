"""Issue 35: the column wall's fuzz queries (test_sql_walls_fuzz.generate: DuckDB's own functions as calls and
methods, in every clause) against a table about people, for a citizen and a civil servant.

For every query: either a refusal, or a protected result (disclosure control's report is there), in which
- no row-level value appears: no salary or join date of anyone (each is held by one person), no denied value;
- no group of fewer than k people is shown, and no cell is released from fewer than k (checked against the
  rewrite's own engine rows, run again beside the protected answer);
- nothing depends on a denied value (twin registries that differ only in names and SSNs answer the same).
"""

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.sql import sdc
from assistant.sql.generate import runner_for
from assistant.sql.guard import GuardedQuery
from assistant.sql.sdc_runner import SdcRunner
from assistant.sql.service import SqlService
from core.errors import GovDataError
from core.settings import Settings
from tests.unit.test_sql_walls_fuzz import FIXED, _call, _targets, engine_functions, generate

CASES = 1000  # the column wall's own queries
AGGREGATES = 800  # the same generated expressions inside the aggregate shapes disclosure control lets run
PEOPLE = 60
K = 5


AGGREGATE_CLAUSES = [
    "SELECT count(*) AS n, sum(p.salary) AS s FROM people AS p WHERE ({e}) IS NOT NULL",
    "SELECT CAST(({e}) AS VARCHAR) AS g, count(*) AS n, avg(p.age) AS a FROM people AS p GROUP BY 1",
    "SELECT p.city AS c, count(DISTINCT p.age) FILTER (WHERE CAST(({e}) AS VARCHAR) < '5') AS n FROM people AS p "
    "GROUP BY p.city",
    "SELECT p.city AS c, sum(p.salary) FILTER (WHERE ({e}) IS NOT NULL) AS s, count(*) AS n FROM people AS p "
    "GROUP BY ROLLUP (p.city)",
    "SELECT count(*) FILTER (WHERE CAST(({e}) AS VARCHAR) < '5') AS n, count(*) AS m FROM people AS p",
    "SELECT p.city AS c, CAST(({e}) AS VARCHAR) AS g, count(*) AS n FROM people AS p GROUP BY CUBE (1, 2)",
    "SELECT avg(p.salary) FILTER (WHERE ({e}) IS NOT NULL) AS a FROM people AS p WHERE p.city = 'north'",
    "SELECT sum(TRY_CAST(({e}) AS DOUBLE)) AS s FROM people AS p",  # refused: a function inside sum()
]


def aggregate_queries(count: int, seed: int = 35) -> list[str]:
    rng = random.Random(seed)
    functions = engine_functions()
    return [rng.choice(AGGREGATE_CLAUSES).format(e=_call(rng.choice(functions), rng.choice(_targets("people", "p")),
                                                         rng))
            for _ in range(count)]


def _write(folder: Path, variant: str) -> set[str]:
    """people.csv (a table about people, unit column id; name and ssn sensitive, salary and joined readable) and
    contacts.csv; the raw values no output may show."""
    rng = random.Random(35)
    folder.mkdir(parents=True)
    lines, raw = ["id,city,age,joined,name,ssn,salary"], set()
    for i in range(1, PEOPLE + 1):
        salary = round(rng.uniform(20_000, 120_000), 2) + 0.25
        joined = f"20{rng.randint(10, 24)}-{rng.randint(1, 12):02d}-{rng.randint(10, 28):02d}"
        name, ssn = f"{variant.upper()}name{i:03d}", f"{variant}{i:03d}-45-{6789 + i}"
        lines.append(f"{i},{rng.choice(['north', 'south', 'east', 'west'])},{rng.randint(18, 90)},{joined},{name},"
                     f"{ssn},{salary}")
        raw |= {str(salary), joined, name, ssn}
    (folder / "people.csv").write_text("\n".join(lines) + "\n")
    (folder / "people.describe.json").write_text(json.dumps(
        {"unit": "person", "unit_column": "id", "columns": {"name": {"sensitive": True}, "ssn": {"sensitive": True}}}))
    (folder / "contacts.csv").write_text("id,person_id,district,phone\n" + "".join(
        f"{i},{i % 7 + 1},d{i % 3},1381234{i:04d}\n" for i in range(1, 30)))
    return raw


def _service(root: Path, variant: str) -> tuple[SqlService, set[str]]:
    raw = _write(root / "data", variant)
    key = root / "home" / "sql" / "sdc.key"
    key.parent.mkdir(parents=True)
    key.write_text("ab" * 32)
    service = SqlService(Settings(home=root / "home"), lambda: None,  # type: ignore[arg-type,return-value]
                         lambda texts: None, lambda paths: None)  # type: ignore[arg-type,return-value]
    data = root / "data"
    service.approved.add(data / "people.csv", name="people", describe=data / "people.describe.json")
    service.approved.add(data / "contacts.csv", name="contacts")
    return service, raw


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SqlService, SqlService, set[str]]]:
    root = tmp_path_factory.mktemp("sdc-fuzz")
    (first, raw_a), (second, raw_b) = _service(root / "a", "a"), _service(root / "b", "b")
    yield first, second, raw_a | raw_b


def outcome(service: SqlService, sql: str, role: str) -> tuple[str, Any]:
    try:
        result = service.run(sql, role=role)
    except GovDataError as refused:
        return "refused", str(refused)
    return "rows", [result.columns, sorted(json.dumps(r, default=str) for r in result.rows), result.sdc is not None]


def _engine_rows(service: SqlService, sql: str, role: str) -> tuple[Any, list[list[Any]]] | None:
    """The rewrite's own rows for a query that ran protected: what the rules saw."""
    context = service.role_context(role)
    runner = runner_for(context, service.limits())
    assert isinstance(runner, SdcRunner)
    query = service.guard.guard(sql, context.approval)
    planned = runner.plan(query)
    if planned is None:
        return None
    engine = GuardedQuery(planned.sql, query.tables, (), 10_000, False, (), (planned.table.name,))
    return planned.layout, runner.inner.run(engine).rows


def _check_counts(layout: Any, engine: list[list[Any]], rows: list[list[Any]]) -> str:
    """Shown rows are the groups of k or more; released cells of a measure are at most its cells from k or more."""
    groups = [r for r in engine if r[1] >= K] if layout.grouped else engine
    shown = len(groups) if layout.limit is None else min(len(groups), max(layout.limit, 0))
    if len(rows) != max(0, shown - (layout.offset if layout.limit is None else 0)) and not layout.offset:
        return f"{len(rows)} rows shown, {len(groups)} groups of {K} or more"
    for output, position in ((o, i) for i, o in enumerate(layout.outputs) if o.measure is not None):
        offset = 2 + layout.keys + sum(m.width for m in layout.measures[:output.measure])
        large = sum(1 for r in groups if (r[offset + 1] or 0) >= K)
        released = sum(1 for r in rows if r[position] is not None and not sdc.is_suppressed(r[position]))
        if released > large:
            return f"{output.name}: {released} cells released, {large} from {K} or more"
    return ""


@pytest.mark.parametrize("role", ["citizen", "civil_servant"])
def test_fuzz_queries_show_no_row_and_no_small_cell(role: str, twins: tuple[SqlService, SqlService, set[str]]) -> None:
    first, second, raw = twins
    problems, protected = [], 0
    for sql in FIXED + generate(CASES, seed=35) + aggregate_queries(AGGREGATES):
        one, other = outcome(first, sql, role), outcome(second, sql, role)
        if any(kind == "refused" and "ran longer than" in str(detail) for kind, detail in (one, other)):
            continue  # a deadline hit on a loaded machine says nothing either way
        if one != other and outcome(first, sql, role) == one:
            problems.append(f"differs on denied values: {sql}")
        if one[0] != "rows":
            continue
        text = json.dumps(one[1], default=str)
        leaked = sorted(v for v in raw if v in text)
        if leaked:
            problems.append(f"row-level values {leaked[:3]}: {sql}")
        reads_people = " people" in sql or "FROM people" in sql
        if reads_people and not one[1][2]:
            problems.append(f"ran unprotected over people: {sql}")
        if one[1][2]:
            protected += 1
            engine = _engine_rows(first, sql, role)
            result = first.run(sql, role=role)
            if engine is not None and (problem := _check_counts(engine[0], engine[1], result.rows)):
                problems.append(f"{problem}: {sql}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:15])
    assert protected > 50  # the rules are tested on queries that ran, not only on refusals
