"""The engine wall (issue 26): each access profile queries a DuckDB file of its own that holds only what it may read,
the runner checks that file and the plan against the profile, and engine messages keep no data values."""

import json
import os
import time
from pathlib import Path

import duckdb
import pytest

from assistant.sql.guard import GuardedQuery
from assistant.sql.runner import (
    MASK,
    PlanFacts,
    QueryFailed,
    QueryRunner,
    check_plan_columns,
    engine_message,
    plan_facts,
    scrub_values,
)
from assistant.sql.service import SqlService
from assistant.sql.walls import PROFILE_FILE, Wall
from core.errors import GovDataError
from core.settings import Settings

SSN = "123-45-6789"


@pytest.fixture
def service(tmp_path: Path) -> SqlService:
    data = tmp_path / "data"
    data.mkdir()
    (data / "people.csv").write_text(f"id,city,ssn,phone\n1,north,{SSN},13812345678\n2,south,,\n")
    (data / "people.describe.json").write_text(json.dumps(
        {"columns": {"ssn": {"sensitive": True}, "phone": {"sensitive": True}}}))
    (data / "cases.csv").write_text("id,kind\n1,noise\n")
    svc = SqlService(Settings(home=tmp_path / "home"), lambda: None,  # type: ignore[arg-type,return-value]
                     lambda texts: None, lambda paths: None)  # type: ignore[arg-type,return-value]
    svc.approved.add(data / "people.csv", name="people", describe=data / "people.describe.json")
    svc.approved.add(data / "cases.csv", name="cases", access_level="non-public")
    return svc


def _columns(database: Path) -> dict[str, list[tuple[str, str]]]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        rows = con.execute("SELECT table_name, column_name, data_type FROM duckdb_columns() "
                           "WHERE NOT internal ORDER BY table_name, column_index").fetchall()
    finally:
        con.close()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        out.setdefault(table, []).append((column, kind))
    return out


def test_each_role_queries_a_file_that_holds_only_what_it_may_read(service: SqlService) -> None:
    citizen, servant, steward = (service.role_context(r) for r in ("citizen", "civil_servant", "data_steward"))
    assert _columns(citizen.database) == {"people": [("id", "BIGINT"), ("city", "VARCHAR")]}
    assert _columns(servant.database) == {"people": [("id", "BIGINT"), ("city", "VARCHAR"), ("ssn", "VARCHAR"),
                                                     ("phone", "VARCHAR")]}
    con = duckdb.connect(str(servant.database), read_only=True)
    assert con.execute("SELECT ssn, phone FROM people ORDER BY id").fetchall() == [(MASK, MASK), (None, None)]
    con.close()
    assert steward.database == service.approved.database  # the whole database: nothing to take out
    assert citizen.database.name == PROFILE_FILE and citizen.database != servant.database


def test_a_new_grading_or_version_makes_a_new_file_and_the_old_one_goes_after_a_day(
        service: SqlService, tmp_path: Path) -> None:
    first = service.role_context("citizen").database
    assert service.role_context("citizen").database == first  # built once
    (tmp_path / "data" / "people.csv").write_text("id,city,ssn,phone\n1,west,1,2\n")
    service.approved.add(tmp_path / "data" / "people.csv", name="people",
                         describe=tmp_path / "data" / "people.describe.json")
    second = service.role_context("citizen").database
    assert second != first and first.is_file()
    old = time.time() - 2 * 24 * 3600
    os.utime(first.parent, (old, old))
    service.role_context("civil_servant")  # building another profile sweeps the unused one
    assert not first.exists() and second.is_file()


def test_the_runner_refuses_a_file_that_holds_more_than_the_profile(service: SqlService) -> None:
    """The approved database opened with a citizen's wall (a wiring mistake) is refused before anything runs."""
    wall = service.role_context("citizen").profile.wall()  # type: ignore[union-attr]
    runner = QueryRunner(service.approved.database, wall=wall)
    with pytest.raises(QueryFailed, match="holds more than the caller's access profile"):
        runner.run(GuardedQuery("SELECT id FROM people", ("people",)))
    assert QueryRunner(service.role_context("citizen").database, wall=wall).run(
        GuardedQuery("SELECT city FROM people ORDER BY id", ("people",))).rows == [["north"], ["south"]]


def test_the_plan_check_refuses_scans_of_columns_outside_the_profile() -> None:
    wall = Wall({"people": {"id": "BIGINT", "city": "VARCHAR"}}, {"people": frozenset({"ssn"})})
    check_plan_columns(PlanFacts(1, frozenset({"people"}), frozenset(), 1, (("people", ("id", "city"), ""),)), wall)
    for scan in (("people", ("id", "ssn"), ""), ("people", ("id",), "(ssn < '2')"),
                 ("people", ("id",), '("SSN" IS NOT NULL)'), ("cases", ("id",), "")):
        with pytest.raises(QueryFailed, match="outside the caller's access profile"):
            check_plan_columns(PlanFacts(1, frozenset({scan[0]}), frozenset(), 1, (scan,)), wall)


def test_plan_facts_read_each_scans_columns_and_filters(tmp_path: Path) -> None:
    database = tmp_path / "t.duckdb"
    con = duckdb.connect(str(database))
    con.execute("CREATE TABLE people AS SELECT i AS id, (100 + i)::VARCHAR AS ssn, 'x' AS city FROM range(500) t(i)")
    plan = json.loads(con.execute("EXPLAIN (FORMAT JSON) SELECT count(*) FROM people WHERE ssn LIKE '1%'")
                      .fetchall()[0][1])
    con.close()
    facts = plan_facts(plan)
    assert facts.scans and facts.scans[0][0] == "people" and "ssn" in facts.scans[0][2]
    with pytest.raises(QueryFailed):
        check_plan_columns(facts, Wall({"people": {"id": "BIGINT"}}, {"people": frozenset({"ssn"})}))


def test_a_failed_build_leaves_no_profile_behind(service: SqlService) -> None:
    service.approved.database.unlink()
    with pytest.raises(GovDataError, match="cannot build the access profile"):
        service.role_context("citizen")
    assert not any(p.name.startswith(".") or (p / PROFILE_FILE).exists()
                   for p in (service.settings.sql_path / "profiles").iterdir() if p.is_dir())


@pytest.mark.parametrize(("message", "hidden"), [
    ('Conversion Error: invalid date field format: "hel"lo", expected format is (YYYY-MM-DD)', "hel"),
    ('Invalid Input Error: Could not parse string "hello" according to format specifier "%Y"', "hello"),
    ("Conversion Error: Type VARCHAR with value 'Alice' can't be cast to the destination type INTEGER[]", "Alice"),
    ("Conversion Error: Date out of range: 2020-13-1", "2020-13-1"),
    ("Conversion Error: Malformed JSON at byte 0 of input: unexpected character.  Input: \"13812345678\"",
     "13812345678"),
    ("Out of Range Error: Overflow in multiplication of INT32 (91234 * 2)", "91234"),
])
def test_engine_messages_keep_no_quoted_or_long_values(message: str, hidden: str) -> None:
    assert hidden not in scrub_values(message)
    assert hidden not in engine_message(duckdb.ConversionException(message))


def test_engine_messages_keep_names_of_the_query() -> None:
    text = 'Binder Error: Referenced column "ssn" not found in FROM clause!'
    assert engine_message(duckdb.BinderException(text)) == text


def test_text_constants_in_a_filter_are_not_read_as_columns(service: SqlService) -> None:
    """Red team: `city = 'ssn'` names no column; only identifiers of the filter count."""
    for sql in ("SELECT id FROM people WHERE city = 'ssn'", "SELECT id FROM people WHERE city LIKE '%phone%'",
                "SELECT id FROM people WHERE contains(city, 'ssn''s')"):
        assert service.run(sql, role="citizen").rows == [], sql
    wall = Wall({"people": {"id": "BIGINT", "city": "VARCHAR"}}, {"people": frozenset({"ssn"})})
    with pytest.raises(QueryFailed):
        check_plan_columns(PlanFacts(1, frozenset({"people"}), frozenset(), 1,
                                     (("people", ("id",), "(ssn = 'city')"),)), wall)


def test_db_refuses_a_hard_link_to_any_file_under_the_home(service: SqlService, tmp_path: Path) -> None:
    """Red team: `--db` approves every table for every role, so a hard link to a profile's file (or the audit
    log) must be refused like the approved database itself."""
    profile = service.role_context("civil_servant").database
    link = tmp_path / "elsewhere" / "civil.duckdb"
    link.parent.mkdir()
    os.link(profile, link)
    with pytest.raises(GovDataError, match="the assistant's own data"):
        service.run("SELECT count(*) FROM people", role="citizen", db=link)
    folder = tmp_path / "folder"
    folder.mkdir()
    os.link(profile, folder / "x.duckdb")
    with pytest.raises(GovDataError, match="the assistant's own data"):
        service.adhoc_context(folder)


def test_the_home_folder_is_private_to_its_owner(tmp_path: Path) -> None:
    from core.files import private_folder

    fresh = tmp_path / "fresh" / "home"
    private_folder(fresh)
    assert fresh.stat().st_mode & 0o777 == 0o700
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    private_folder(shared)
    assert shared.stat().st_mode & 0o777 == 0o750  # other accounts lose every right; the group keeps its own


def test_a_declared_unit_column_is_not_in_a_protected_roles_file_and_its_rows_have_no_order(tmp_path: Path) -> None:
    """A table about people: the citizen's file holds no unit column (the record key counts units) and its rows in
    record-key order, so neither an id nor a row's position can pick a person out; the steward keeps the ids."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "visits.csv").write_text("person,ward\n" + "".join(f"P{i:03d},w{i % 3}\n" for i in range(40))
                                     + "".join(f",w{i % 3}\n" for i in range(10)))  # ten rows with no person
    (data / "visits.describe.json").write_text(json.dumps({"unit": "person", "unit_column": "person"}))
    svc = SqlService(Settings(home=tmp_path / "home"), lambda: None,  # type: ignore[arg-type,return-value]
                     lambda texts: None, lambda paths: None)  # type: ignore[arg-type,return-value]
    svc.approved.add(data / "visits.csv", name="visits", describe=data / "visits.describe.json")
    citizen = svc.role_context("citizen")
    assert [c for c, _ in _columns(citizen.database)["visits"]] == ["ward", "__govdata_rk"]
    con = duckdb.connect(str(citizen.database), read_only=True)
    try:
        keys = [row[0] for row in con.execute("SELECT __govdata_rk FROM visits").fetchall()]
        wards = [row[0] for row in con.execute("SELECT ward FROM visits").fetchall()]
    finally:
        con.close()
    assert keys == sorted(keys) and wards[:40] != [f"w{i % 3}" for i in range(40)]  # the source's order is gone
    counted = svc.run("SELECT count(*) AS a, count(person) AS b, count(DISTINCT person) AS c FROM visits",
                      role="citizen").rows[0]
    assert [abs(n - truth) <= 4 for n, truth in zip(counted, (50, 40, 40), strict=True)] == [True] * 3
    wall = citizen.profile.wall()  # type: ignore[union-attr]
    with pytest.raises(QueryFailed, match="holds more than the caller's access profile"):
        QueryRunner(svc.approved.database, wall=wall).run(GuardedQuery("SELECT ward FROM visits", ("visits",)))
    steward = svc.role_context("data_steward")
    assert QueryRunner(steward.database).run(GuardedQuery("SELECT person FROM visits ORDER BY 1 LIMIT 2",
                                                          ("visits",))).rows == [["P000"], ["P001"]]
