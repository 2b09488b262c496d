"""Issue 33 end to end: the real CLI in subprocesses on real DuckDB files (and Services over the same home for the
column wall's fuzz attempts). A restricted table of trips; an operator user of org "transit-co" sees nothing of it;
a grant with two columns and a district predicate lets them count their district's rows only; revoke ends it at
the next call; an expired grant is refused with nobody acting; receipts and the disclosure report name the grant;
a request is approved narrowed, used and expires; bad input is one line naming the field, with nothing stored."""

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from assistant.services import Services
from assistant.sql.generate import runner_for
from core.errors import GovDataError
from core.settings import Settings
from tests.e2e.conftest import Run, govdata
from tests.unit.test_sql_walls_fuzz import FIXED, generate

pytestmark = pytest.mark.e2e

COLUMNS = ["id", "district", "route", "plate", "fare", "driver_age"]
# words that never appear by chance in an engine's output (no uuid or hash can spell them)
ROWS = [(1, "haidian", "route-h10", "JING-PLATE-1", 2.25, 31), (2, "chaoyang", "route-c20", "JING-PLATE-2", 3.75, 45),
        (3, "haidian", "route-h11", "JING-PLATE-3", 2.5, 27), (4, "dongcheng", "route-x30", "JING-PLATE-4", 4.125, 61),
        (5, "haidian", "route-h10", "JING-PLATE-5", 2.25, 38), (6, "chaoyang", "route-c21", "JING-PLATE-6", 3.5, 52)]
NEVER = ["chaoyang", "dongcheng", "route-c2", "route-x30", "JING-PLATE", "3.75", "4.125"]
# the fuzz test's tables and columns, read as this table's: every generated form aims at granted and ungranted ones
AS_TRIPS = {"people": "trips", "contacts": "trips", "city": "district", "joined": "route", "name": "route",
            "age": "driver_age", "ssn": "plate", "salary": "fare", "phone": "plate", "person_id": "fare"}
COUNT = "SELECT district, count(*) AS n FROM trips GROUP BY district"
IN_30, IN_10 = ((date.today() + timedelta(days=n)).isoformat() for n in (30, 10))
OLGA = {"GOVDATA_USER": "olga"}
STEWARD = {"GOVDATA_USER": "ana"}


def ok(run: Run) -> Any:
    assert run.code == 0, run.stderr
    return json.loads(run.stdout) if run.stdout.strip() else None


def one_line_error(run: Run, *words: str) -> str:
    lines = run.stderr.strip().splitlines()
    assert run.code == 1 and len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    assert all(w in lines[0] for w in words), lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("grants-e2e")
    data = root / "trips.csv"
    data.write_text("\n".join([",".join(COLUMNS), *(",".join(map(str, r)) for r in ROWS)]) + "\n")
    (root / "trips.describe.json").write_text(json.dumps({
        "title": "Bus trips by district", "publisher": "Transport Bureau", "theme": "transport",
        "columns": {"plate": {"sensitive": True}}}))
    home = root / "home"
    env = STEWARD | {"STEWARD_PW": "steward-pass-1", "OLGA_PW": "operator-pass-1"}
    ok(govdata(home, "datasets", "add", str(data), "--describe", str(root / "trips.describe.json"),
               "--access-level", "restricted public", "--json", env=env))
    ok(govdata(home, "orgs", "add", "transit-co", "--kind", "operator", "--contact", "Data office, transit-co",
               "--json", env=env))
    ok(govdata(home, "users", "add", "ana", "--role", "data_steward", "--password-env", "STEWARD_PW", env=env))
    ok(govdata(home, "users", "add", "olga", "--role", "operator", "--org", "transit-co", "--password-env",
               "OLGA_PW", env=env))
    yield home


def as_trips(sql: str) -> str:
    return re.sub(r"\b(" + "|".join(AS_TRIPS) + r")\b", lambda m: AS_TRIPS[m.group(1)], sql)


def receipts(home: Path, limit: int = 5) -> list[dict[str, Any]]:
    return list(ok(govdata(home, "audit", "list", "--limit", str(limit), "--json", env=STEWARD)))


def age(home: Path, grant_id: str, days: int) -> None:
    """Time passes: the grant's term moves `days` into the past, as if the calendar had (nobody acts on it)."""
    path = home / "grants.json"
    book = json.loads(path.read_text())
    for grant in book["grants"]:
        if grant["id"] == grant_id:
            for key in ("start", "until"):
                grant[key] = (date.fromisoformat(grant[key]) - timedelta(days=days)).isoformat()
    path.write_text(json.dumps(book))


def test_an_operator_sees_nothing_then_counts_only_their_district_through_a_grant(home: Path) -> None:
    assert ok(govdata(home, "users", "list", "--json", env=STEWARD))[1] == {
        "name": "olga", "role": "operator", "org": "transit-co", "disabled": False}
    one_line_error(govdata(home, "sql", "run", COUNT, env=OLGA), "no approved tables for role 'operator'")
    one_line_error(govdata(home, "sql", "run", COUNT, "--role", "data_steward", env=OLGA), "may only lower")
    found = ok(govdata(home, "datasets", "search", "bus trips by district", "--json", env=OLGA))
    assert all(r["identifier"] != "govdata-sql:trips" for r in found)

    made = ok(govdata(home, "grants", "create", "transit-co", "trips", "--purpose", "route planning", "--until",
                      IN_30, "--columns", "district,route", "--rows", "district = 'haidian'", "--json", env=STEWARD))
    assert made["id"] == "g0001" and made["contact"] == "Data office, transit-co"
    counted = ok(govdata(home, "sql", "run", COUNT, "--json", env=OLGA))
    assert counted["rows"] == [["haidian", 3]] and counted["grants"] == ["g0001"]
    for sql in ("SELECT plate FROM trips", "SELECT fare FROM trips", "SELECT count(*) FROM trips WHERE fare > 3"):
        one_line_error(govdata(home, "sql", "run", sql, env=OLGA), "not available")
    [table] = ok(govdata(home, "sql", "tables", "--json", env=OLGA))
    assert [c["name"] for c in table["columns"]] == ["district", "route"] and table["grants"] == ["g0001"]
    assert "through grant g0001" in govdata(home, "sql", "tables", env=OLGA).stdout
    found = ok(govdata(home, "datasets", "search", "bus trips by district", "--json", env=OLGA))
    assert "govdata-sql:trips" in [r["identifier"] for r in found]
    named = [r for r in receipts(home, 8) if r["user"] == "olga" and r["grants"]]
    assert {r["action"] for r in named} >= {"sql.run", "sql.tables", "datasets.search"}
    assert all(r["grants"] == ["g0001"] for r in named)


def test_the_column_walls_fuzz_attempts_find_nothing_of_other_columns_or_rows(home: Path) -> None:
    """Through Services (guard and wall) and straight to the grantee's profile (no guard): no output ever holds a
    value of another column or another district."""
    svc = Services(Settings(home=home, user="olga"))
    wall = runner_for(svc.sql.role_context("operator", svc._grants("olga")), svc.sql.limits())
    ran = 0
    queries = [*FIXED, "SELECT * FROM trips", "SELECT t.to_json() FROM trips t", "SELECT COLUMNS('.*') FROM trips",
               *(as_trips(q) for q in generate(300, seed=3301))]
    for sql in queries:
        for attempt in (lambda q: svc.sql_run(q, role="operator"), wall.run_raw):
            try:
                result = attempt(sql)
                shown: Any = [result.columns, result.rows]
                ran += 1
            except GovDataError as refused:
                shown = str(refused)
            found = [word for word in NEVER if word in json.dumps(shown, ensure_ascii=False, default=str)]
            assert not found, f"{sql} -> {found}"
    assert ran > 15  # most forms name a column the grant does not give (id among them) and are refused


def test_revoke_ends_access_at_the_next_call(home: Path) -> None:
    ok(govdata(home, "grants", "revoke", "g0001", "--reason", "contract ended", "--json", env=STEWARD))
    one_line_error(govdata(home, "sql", "run", COUNT, env=OLGA), "no approved tables")
    shown = ok(govdata(home, "grants", "show", "g0001", "--json", env=OLGA))
    assert (shown["state"], shown["version"], shown["history"][0]["status"]) == ("revoked", 2, "active")


def test_an_expired_grant_is_refused_without_anyone_acting(home: Path) -> None:
    ok(govdata(home, "grants", "create", "transit-co", "trips", "--purpose", "short study", "--until", IN_10,
               "--columns", "district", "--json", env=STEWARD))
    assert ok(govdata(home, "sql", "run", "SELECT count(*) AS n FROM trips", "--json", env=OLGA))["rows"] == [[6]]
    age(home, "g0002", 11)
    one_line_error(govdata(home, "sql", "run", "SELECT count(*) AS n FROM trips", env=OLGA), "no approved tables")
    assert ok(govdata(home, "grants", "list", "--json", env=OLGA))[0]["state"] == "expired"


def test_request_approve_narrowed_use_expire(home: Path) -> None:
    asked = ok(govdata(home, "grants", "request", "trips", "--purpose", "timetable app", "--until", IN_30,
                       "--columns", "district,route,fare", "--json", env=OLGA))
    assert (asked["id"], asked["status"]) == ("r0001", "pending")
    assert [r["id"] for r in ok(govdata(home, "grants", "requests", "--status", "pending", "--json",
                                        env=STEWARD))] == ["r0001"]
    granted = ok(govdata(home, "grants", "approve", "r0001", "--columns", "district,route", "--rows",
                         "district = 'haidian'", "--until", IN_10, "--note", "fares are not needed", "--json",
                         env=STEWARD))
    assert (granted["columns"], granted["until"], granted["request"]) == (["district", "route"], IN_10, "r0001")
    [outcome] = ok(govdata(home, "grants", "requests", "--json", env=OLGA))
    assert (outcome["status"], outcome["grant"]) == ("approved", granted["id"])
    assert ok(govdata(home, "sql", "run", COUNT, "--json", env=OLGA))["rows"] == [["haidian", 3]]
    age(home, granted["id"], 11)
    one_line_error(govdata(home, "sql", "run", COUNT, env=OLGA), "no approved tables")


def test_the_disclosure_report_lists_each_grant_and_its_uses(home: Path, tmp_path: Path) -> None:
    ok(govdata(home, "disclose", "--out", str(tmp_path / "report.json"), env=STEWARD))
    report = json.loads((tmp_path / "report.json").read_text())
    rows = {r["grant"]: r for r in report["authorised_operation"]}
    assert set(rows) == {"g0001", "g0002", "g0003"}
    assert (rows["g0001"]["organisation"], rows["g0001"]["state"], rows["g0001"]["rows_limited"]) == (
        "transit-co", "revoked", True)
    assert rows["g0001"]["uses"] != 0 and rows["g0002"]["state"] == "expired"
    text = json.dumps(report["authorised_operation"], ensure_ascii=False)
    assert "haidian" not in text and "SELECT" not in text and "olga" not in text
    ok(govdata(home, "disclose", "--out", str(tmp_path / "report.html"), env=STEWARD))
    assert "Sharing and authorised operation" in (tmp_path / "report.html").read_text()


@pytest.mark.parametrize(("args", "words"), [
    (["--rows", "districtx = 'haidian'"], ["--rows", "no column 'districtx'"]),
    (["--rows", "id IN (SELECT id FROM trips)"], ["--rows", "subquery"]),
    (["--until", (date.today() - timedelta(days=1)).isoformat()], ["--until", "in the past"]),
    (["--org-name", "bus-co"], ["ORG bus-co", "no organisation has this name"]),
    (["--dataset", "no_such_table"], ["DATASET no_such_table", "no approved table or catalog record"]),
])
def test_bad_input_is_one_line_naming_the_field_and_nothing_is_stored(home: Path, args: list[str],
                                                                      words: list[str]) -> None:
    before = (home / "grants.json").read_bytes()
    org, dataset, rest = "transit-co", "trips", list(args)
    if rest[0] == "--org-name":
        org, rest = rest[1], []
    elif rest[0] == "--dataset":
        dataset, rest = rest[1], []
    run = govdata(home, "grants", "create", org, dataset, "--purpose", "p", "--until", IN_30, *rest, env=STEWARD)
    one_line_error(run, *words)
    assert (home / "grants.json").read_bytes() == before
