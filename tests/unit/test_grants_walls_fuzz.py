"""Issue 33: the column wall's fuzz test (tests/unit/test_sql_walls_fuzz.py) against a grantee.

An operator of transit-co holds a grant over the restricted `contacts` table: two columns (id, district) of the
rows of district d1. Two registries hold the same granted values and differ everywhere else: the other columns
(person_id, phone) and the rows of the other districts (their ids, districts and number). Every generated query —
DuckDB's own functions, as calls and methods, in every clause — must answer the same on both, through the guard and
straight to the grantee's profile without it, and show no value it may not read."""

from collections.abc import Iterator
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from assistant.policy.grants import Grant
from assistant.sql.generate import runner_for
from assistant.sql.runner import QueryRunner
from assistant.sql.service import SqlService
from core.errors import GovDataError
from core.settings import Settings
from tests.unit.test_sql_walls_fuzz import (
    FIXED,
    SEED,
    _unordered,
    _write_tables,
    appears,
    generate,
    inconclusive,
    leaked_values,
    reproduces,
)

CASES = 1500
OPERATOR = "operator"
# d1 rows: the same in both (id, district); person_id and phone differ. Other rows: different ids, districts, count.
OTHERS = {"a": [(2, "dz2", 71002, "13900000002"), (3, "dz3", 71003, "13900000003"), (5, "dz2", 71005, "")],
          "b": [(20, "dz9", 82020, "15800000020"), (30, "dz8", 82030, "15800000030"),
                (50, "dz9", 82050, "15800000050"), (60, "dz7", 82060, "15800000060")]}
D1 = {"a": [(1, "d1", 71001, "13700000001"), (4, "d1", 71004, "13700000004")],
      "b": [(1, "d1", 82001, "15700000001"), (4, "d1", 82004, "")]}
# ('z' is no hex digit: a random uuid in an output never looks like a hidden district)
HIDDEN = {str(v) for variant in (*OTHERS.values(), *D1.values()) for row in variant for v in row[2:] if v} | {
    f"dz{n}" for n in (2, 3, 7, 8, 9)}


def _grant() -> Grant:
    return Grant("g0001", "transit-co", "dataset", "contacts", "fuzz", date.today().isoformat(),
                 (date.today() + timedelta(days=5)).isoformat(), "x", ("id", "district"), rows="district = 'd1'")


def _service(root: Path, variant: str) -> SqlService:
    _write_tables(root / "data", variant)
    rows = ["id,person_id,district,phone", *(f"{i},{p},{d},{ph}" for i, d, p, ph in D1[variant] + OTHERS[variant])]
    (root / "data" / "contacts.csv").write_text("\n".join(rows) + "\n")
    service = SqlService(Settings(home=root / "home"), lambda: None,  # type: ignore[arg-type,return-value]
                         lambda texts: None, lambda paths: None)  # type: ignore[arg-type,return-value]
    data = root / "data"
    service.approved.add(data / "people.csv", name="people", describe=data / "people.describe.json")
    service.approved.add(data / "contacts.csv", name="contacts", access_level="restricted public",
                         describe=data / "contacts.describe.json")
    return service


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SqlService, SqlService]]:
    root = tmp_path_factory.mktemp("grant-walls")
    yield _service(root / "a", "a"), _service(root / "b", "b")


def outcome(service: SqlService, sql: str) -> tuple[str, Any]:
    try:
        result = service.run(sql, role=OPERATOR, grants=(_grant(),))
    except GovDataError as refused:
        return "refused", str(refused)
    return "rows", [result.columns, _unordered(result.rows)]


@cache
def _runner(service: SqlService) -> QueryRunner:
    runner = runner_for(service.role_context(OPERATOR, (_grant(),)), service.limits())
    assert isinstance(runner, QueryRunner) and runner.wall is not None
    return runner


def wall_outcome(service: SqlService, sql: str) -> tuple[str, Any]:
    try:
        result = _runner(service).run_raw(sql)
    except GovDataError as refused:
        return "refused", str(refused)
    return "rows", [result.columns, _unordered(result.rows)]


def hidden_values(value: Any) -> list[str]:
    text = str(value)
    return sorted(v for v in HIDDEN if appears(v, text)) + leaked_values(value)


GRANTEE_FIXED = [
    "SELECT * FROM contacts", "SELECT count(*) FROM contacts", "SELECT max(id) FROM contacts",
    "SELECT person_id FROM contacts", "SELECT c.to_json() FROM contacts c", "SELECT phone FROM contacts",
    "SELECT count(*) FROM contacts WHERE person_id > 75000", "SELECT district, count(*) FROM contacts GROUP BY 1",
    "SELECT * FROM contacts WHERE district <> 'd1'", "SELECT COLUMNS('.*') FROM contacts",
]


@pytest.mark.parametrize("through", ["guard", "wall"])
def test_a_grantee_reads_only_its_columns_and_rows(through: str, twins: tuple[SqlService, SqlService]) -> None:
    first, second = twins
    run = outcome if through == "guard" else wall_outcome
    differing, leaking, ran = [], [], 0
    queries = GRANTEE_FIXED + FIXED + generate(CASES, seed=SEED + (33 if through == "guard" else 34))
    for sql in queries:
        one, other = run(first, sql), run(second, sql)
        ran += one[0] == "rows"
        if (one != other and not inconclusive(one, other)
                and reproduces(lambda query: run(first, query), sql, one)):
            differing.append(f"{sql}\n    a: {str(one)[:160]}\n    b: {str(other)[:160]}")
        found = hidden_values([one, other])
        if found:
            leaking.append(f"{sql} -> {found}")
    assert ran > len(queries) // 20
    assert not leaking, f"{len(leaking)} queries showed values the grant does not give:\n" + "\n".join(leaking[:15])
    assert not differing, (f"{len(differing)} queries answered differently where only ungranted data differs:\n"
                           + "\n".join(differing[:15]))


def test_the_grant_still_answers_what_it_gives(twins: tuple[SqlService, SqlService]) -> None:
    for service in twins:
        assert outcome(service, "SELECT id, district FROM contacts ORDER BY id") == ("rows", [
            ["id", "district"], ['[1, "d1"]', '[4, "d1"]']])
