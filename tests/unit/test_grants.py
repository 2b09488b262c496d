"""Issue 33 through Services, on real DuckDB files: an operator of transit-co sees nothing of a restricted table
until a grant opens two columns of its own district; the profile file holds exactly that; the grant ends at the
next call on revocation, suspension or expiry; receipts and the disclosure report name it; requests are approved
narrowed or rejected; bad input is one line naming the field, with nothing stored."""

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from assistant.services import Services
from assistant.sql.guard import SqlRejected
from core.errors import FieldError, GovDataError, NotFound
from tests.unit.grant_home import OPERATOR, STEWARD, grant_home

TODAY = date.today()
UNTIL = (TODAY + timedelta(days=30)).isoformat()
COUNT = "SELECT district, count(*) AS n FROM trips GROUP BY district ORDER BY district"


@pytest.fixture
def svc(tmp_path: Path) -> Services:
    return grant_home(tmp_path)


def two_columns(svc: Services, **values: object) -> dict[str, object]:
    return svc.create_grant("transit-co", "trips", purpose="route planning", until=UNTIL, columns="district,route",
                            rows="district = 'd1'", role=STEWARD, **values)  # type: ignore[arg-type]


def refused(svc: Services, sql: str = COUNT, user: str = "olga") -> str:
    with pytest.raises(GovDataError) as stopped:
        svc.sql_run(sql, role=OPERATOR, user=user)
    return str(stopped.value)


def search_ids(svc: Services, user: str = "olga") -> list[str]:
    return [r.identifier for r in svc.search_datasets("bus trips by district", k=5, role=OPERATOR, user=user)]


def test_the_operator_sees_nothing_of_the_restricted_table_without_a_grant(svc: Services) -> None:
    assert "no approved tables" in refused(svc)
    assert "govdata-sql:trips" not in search_ids(svc)
    with pytest.raises(NotFound):
        svc.dataset_record("govdata-sql:trips", role=OPERATOR, user="olga")


def test_a_grant_opens_two_columns_of_one_district_and_the_profile_file_holds_only_that(svc: Services) -> None:
    made = two_columns(svc)
    assert made["id"] == "g0001" and made["state"] == "active" and made["contact"] == "Data office, transit-co"
    context = svc.sql_tables(OPERATOR, user="olga")
    [table] = context.tables
    assert [c.name for c in table.columns] == ["district", "route"] and table.row_count == 3
    assert context.grants == {"trips": ("g0001",)}
    assert svc.audit.recent(limit=1)[0].grants == ["g0001"]
    result = svc.sql_run(COUNT, role=OPERATOR, user="olga")
    assert result.rows == [["d1", 3]] and result.grants == ["g0001"]
    receipt = svc.audit.recent(limit=1)[0]
    assert (receipt.action, receipt.grants, receipt.raw_values) == ("sql.run", ["g0001"], False)
    for sql in ("SELECT plate FROM trips", "SELECT fare FROM trips", "SELECT count(*) FROM trips WHERE fare > 0"):
        with pytest.raises(SqlRejected, match="not available"):
            svc.sql_run(sql, role=OPERATOR, user="olga")
    assert svc.sql_run("SELECT * FROM trips", role=OPERATOR, user="olga").columns == ["district", "route"]
    assert context.database != svc.sql.approved.database
    copy = svc.settings.home.parent / "profile-copy.duckdb"  # the runner holds the file open with its own settings
    shutil.copyfile(context.database, copy)
    con = duckdb.connect(str(copy), read_only=True)
    try:
        assert con.execute("SELECT * FROM trips ORDER BY route").fetchall() == [("d1", "r10"), ("d1", "r10"),
                                                                                ("d1", "r11")]
        assert {r[0] for r in con.execute("SHOW TABLES").fetchall()} == {"trips"}
    finally:
        con.close()


def test_a_grant_shows_its_record_in_dataset_search_with_the_grant_on_the_receipt(svc: Services) -> None:
    two_columns(svc)
    assert "govdata-sql:trips" in search_ids(svc)
    assert svc.audit.recent(limit=1)[0].grants == ["g0001"]
    assert svc.dataset_record("govdata-sql:trips", role=OPERATOR, user="olga")["title"] == "Bus trips by district"
    assert svc.hidden_matches("bus trips by district", k=5, role=OPERATOR, user="olga") == 0
    assert "govdata-sql:trips" not in search_ids(svc, user="someone-else")


@pytest.mark.parametrize("end", ["revoke", "suspend", "expire", "disable"])
def test_access_ends_at_the_next_call(svc: Services, end: str, monkeypatch: pytest.MonkeyPatch) -> None:
    two_columns(svc)
    assert svc.sql_run(COUNT, role=OPERATOR, user="olga").rows == [["d1", 3]]
    if end == "revoke":
        svc.revoke_grant("g0001", reason="contract ended", role=STEWARD)
    elif end == "suspend":
        svc.suspend_grant("g0001", reason="audit", role=STEWARD)
    elif end == "expire":  # nobody acts: the day passes
        after = date.fromisoformat(UNTIL) + timedelta(days=1)
        monkeypatch.setattr("assistant.usecases.desk.today_utc", lambda: after)
    else:
        svc.disable_user("olga", role=STEWARD)
    assert "no approved tables" in refused(svc)
    assert "govdata-sql:trips" not in search_ids(svc)
    assert not svc.grants_in_force(["g0001"], user="olga")
    if end == "suspend":
        svc.resume_grant("g0001", role=STEWARD)
        assert svc.sql_run(COUNT, role=OPERATOR, user="olga").rows == [["d1", 3]]


def test_a_revoked_grant_never_opens_again_and_its_history_says_why(svc: Services) -> None:
    two_columns(svc)
    shown = svc.revoke_grant("g0001", reason="contract ended", role=STEWARD)
    assert (shown["state"], shown["version"], shown["reason"]) == ("revoked", 2, "contract ended")
    assert shown["history"][0]["status"] == "active"
    for again in (svc.resume_grant, svc.suspend_grant):
        with pytest.raises(FieldError, match="revoked"):
            again("g0001", role=STEWARD)


def test_a_changed_term_or_scope_keeps_the_old_version(svc: Services) -> None:
    two_columns(svc)
    longer = (TODAY + timedelta(days=90)).isoformat()
    amended = svc.amend_grant("g0001", until=longer, rows="district IN ('d1', 'd2')", role=STEWARD)
    assert amended["version"] == 2 and amended["until"] == longer
    [old] = amended["history"]
    assert (old["until"], old["rows"], old["change"]) == (UNTIL, "\"district\" = 'd1'", "amended: until, rows")
    assert svc.sql_run(COUNT, role=OPERATOR, user="olga").rows == [["d1", 3], ["d2", 2]]


def test_a_theme_grant_opens_every_non_sensitive_column_of_its_tables(svc: Services) -> None:
    svc.create_grant("transit-co", theme="TRANSPORT", purpose="network study", until=UNTIL, role=STEWARD)
    [table] = svc.sql_tables(OPERATOR, user="olga").tables
    assert "plate" not in [c.name for c in table.columns] and table.row_count == 6
    assert svc.grants(role=STEWARD)[0]["target"] == "transport"


def test_a_token_of_the_organisation_carries_its_grants_until_they_end(svc: Services) -> None:
    two_columns(svc)
    _, secret = svc.create_token("transit-bot", OPERATOR, org="transit-co", role=STEWARD)
    caller = svc.authenticate(f"Bearer {secret}")
    assert svc.sql_run(COUNT, role=caller.role, user=caller.user).rows == [["d1", 3]]
    _, plain = svc.create_token("other-bot", OPERATOR, role=STEWARD)
    other = svc.authenticate(f"Bearer {plain}")
    assert "no approved tables" in refused(svc, user=other.user)
    svc.revoke_grant("g0001", role=STEWARD)
    assert "no approved tables" in refused(svc, user=caller.user)


def test_request_approve_narrowed_use_expire(svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = svc.request_grant("trips", purpose="timetable app", until=UNTIL, columns="district,route,fare",
                              role=OPERATOR, user="olga")
    assert (asked["id"], asked["status"], asked["org"], asked["user"]) == ("r0001", "pending", "transit-co", "olga")
    assert "no approved tables" in refused(svc)  # a request opens nothing
    assert [r["id"] for r in svc.requests(role=STEWARD, status="pending")] == ["r0001"]
    shorter = (TODAY + timedelta(days=10)).isoformat()
    with pytest.raises(FieldError, match="only narrow the columns"):
        svc.approve_request("r0001", columns="district,plate", role=STEWARD)
    with pytest.raises(FieldError, match="only shorten the term"):
        svc.approve_request("r0001", until=(TODAY + timedelta(days=60)).isoformat(), role=STEWARD)
    grant = svc.approve_request("r0001", columns="district,route", rows="district = 'd1'", until=shorter,
                                note="fares are not needed", role=STEWARD)
    assert (grant["request"], grant["columns"], grant["until"]) == ("r0001", ["district", "route"], shorter)
    [outcome] = svc.requests(role=OPERATOR, user="olga")
    assert (outcome["status"], outcome["grant"], outcome["reason"]) == ("approved", grant["id"],
                                                                         "fares are not needed")
    assert svc.sql_run(COUNT, role=OPERATOR, user="olga").rows == [["d1", 3]]
    after = date.fromisoformat(shorter) + timedelta(days=1)
    monkeypatch.setattr("assistant.usecases.desk.today_utc", lambda: after)
    assert "no approved tables" in refused(svc)
    with pytest.raises(FieldError, match="approved already"):
        svc.approve_request("r0001", role=STEWARD)


def test_a_rejection_carries_its_reason_to_the_requester(svc: Services) -> None:
    svc.request_grant("trips", purpose="ads", until=UNTIL, role=OPERATOR, user="olga")
    svc.reject_request("r0001", reason="not a public purpose", role=STEWARD)
    [outcome] = svc.requests(role=OPERATOR, user="olga")
    assert (outcome["status"], outcome["reason"]) == ("rejected", "not a public purpose")
    assert svc.requests(role=OPERATOR, user="nobody") == []


def test_only_a_steward_decides_and_a_member_reads_only_its_organisations_grants(svc: Services) -> None:
    two_columns(svc)
    for act in (lambda: svc.create_grant("transit-co", "trips", purpose="x", until=UNTIL, role=OPERATOR, user="olga"),
                lambda: svc.revoke_grant("g0001", role=OPERATOR, user="olga"),
                lambda: svc.approve_request("r0001", role="civil_servant")):
        with pytest.raises(GovDataError, match="may not"):
            act()
    assert [g["id"] for g in svc.grants(role=OPERATOR, user="olga")] == ["g0001"]
    svc.add_organisation("city-dept", kind="department", contact="ops desk", role=STEWARD)
    svc.add_user("dan", "civil_servant", password="department-1", org="city-dept", role=STEWARD)
    assert svc.grants(role="civil_servant", user="dan") == []
    with pytest.raises(NotFound):
        svc.grant("g0001", role="civil_servant", user="dan")


BAD = [
    ({"rows": "districtx = 'd1'"}, "rows", "no column 'districtx'"),
    ({"rows": "id IN (SELECT id FROM trips)"}, "rows", "subquery"),
    ({"until": (TODAY - timedelta(days=1)).isoformat()}, "until", "in the past"),
    ({"organisation": "bus-co"}, "organisation", "no organisation has this name"),
    ({"dataset_id": "no-such-table"}, "dataset_id", "no approved table or catalog record"),
    ({"columns": "district,nope"}, "columns", "no column 'nope'"),
    ({"purpose": " "}, "purpose", "must not be empty"),
    ({"until": "next june"}, "until", "expected a date"),
]


@pytest.mark.parametrize(("change", "field", "problem"), BAD)
def test_bad_input_is_one_line_naming_the_field_and_nothing_is_stored(svc: Services, change: dict[str, str],
                                                                       field: str, problem: str) -> None:
    before = svc.settings.grants_path.read_bytes()
    values = {"organisation": "transit-co", "dataset_id": "trips", "purpose": "planning", "until": UNTIL,
              "columns": "district,route", "rows": "district = 'd1'"} | change
    with pytest.raises(FieldError) as stopped:
        svc.create_grant(values.pop("organisation"), values.pop("dataset_id"), role=STEWARD, **values)
    assert stopped.value.field == field and problem in str(stopped.value) and "\n" not in str(stopped.value)
    assert svc.settings.grants_path.read_bytes() == before
    assert svc.audit.recent(limit=1)[0].outcome.startswith("refused:")


def test_a_request_never_tells_whether_a_column_exists(svc: Services) -> None:
    """The requester may not see the table: a real sensitive column and a made-up one are asked for alike, and the
    approval is where a steward learns that one does not exist (found by a red-team: `columns: "plate,zz"` was
    refused naming zz, which confirmed plate)."""
    real = svc.request_grant("trips", purpose="x", until=UNTIL, columns="plate", rows="driver_age > 0", role=OPERATOR,
                             user="olga")
    made_up = svc.request_grant("trips", purpose="x", until=UNTIL, columns="zz", rows="zz_age > 0", role=OPERATOR,
                                user="olga")
    assert (real["status"], made_up["status"]) == ("pending", "pending")
    with pytest.raises(FieldError, match="no column 'zz'; its columns: id, district"):
        svc.approve_request(made_up["id"], role=STEWARD)
    with pytest.raises(FieldError) as refused:
        svc.request_grant("trips", purpose="x", until=UNTIL, rows="lower(zz) = 'x'", role=OPERATOR, user="olga")
    assert "its columns" not in str(refused.value) and len(svc.requests(role=STEWARD)) == 2
    with pytest.raises(FieldError, match="no organisation"):
        svc.request_grant("trips", purpose="x", until=UNTIL, role="citizen", user="walk-in")


def test_the_disclosure_report_lists_the_grant_with_its_uses_by_month(svc: Services) -> None:
    two_columns(svc)
    for _ in range(3):
        svc.sql_run(COUNT, role=OPERATOR, user="olga")
    [row] = svc.disclose(role=STEWARD)["authorised_operation"]
    month = TODAY.isoformat()[:7]
    assert (row["grant"], row["organisation"], row["state"], row["rows_limited"]) == ("g0001", "transit-co",
                                                                                        "active", True)
    assert row["uses_by_month"] == {month: f"<{svc.settings.disclosure.min_count}"}
    assert "d1" not in json.dumps(row) and "COUNT" not in json.dumps(row).upper()


def test_users_have_an_organisation_and_names_are_never_reused(svc: Services) -> None:
    listed = {u["name"]: u for u in svc.list_users(role=STEWARD)}
    assert listed["olga"] == {"name": "olga", "role": OPERATOR, "org": "transit-co", "disabled": False}
    assert "salt" not in json.dumps(listed) and "password_hash" not in json.dumps(listed)
    with pytest.raises(FieldError, match="never reused"):
        svc.add_user("olga", "citizen", password="another-pass", role=STEWARD)
    with pytest.raises(FieldError, match="no organisation"):
        svc.add_user("bob", "citizen", password="another-pass", org="nowhere", role=STEWARD)
    with pytest.raises(GovDataError, match="unknown role"):
        svc.add_user("bob", "king", password="another-pass", role=STEWARD)
    with pytest.raises(GovDataError, match="may not"):
        svc.add_user("bob", "citizen", password="another-pass", role=OPERATOR)
    assert svc.disable_user("olga", role=STEWARD)["disabled"] is True


def _cli(svc: Services, monkeypatch: pytest.MonkeyPatch, user: str, *args: str) -> object:
    from assistant.cli import app

    monkeypatch.setenv("GOVDATA_HOME", str(svc.settings.home))
    monkeypatch.setenv("GOVDATA_USER", user)
    return CliRunner().invoke(app, list(args))


def test_govdata_user_acts_as_that_user_and_role_may_only_lower_it(svc: Services,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    two_columns(svc)
    ran = _cli(svc, monkeypatch, "olga", "sql", "run", COUNT, "--json")
    assert ran.exit_code == 0, ran.output  # type: ignore[attr-defined]
    assert json.loads(ran.output)["rows"] == [["d1", 3]]  # type: ignore[attr-defined]
    assert (svc.audit.recent(limit=1)[0].user, svc.audit.recent(limit=1)[0].role) == ("olga", OPERATOR)
    tables = _cli(svc, monkeypatch, "olga", "sql", "tables", "--json")
    assert json.loads(tables.output)[0]["grants"] == ["g0001"]  # type: ignore[attr-defined]
    higher = _cli(svc, monkeypatch, "olga", "sql", "run", COUNT, "--role", "data_steward")
    assert isinstance(higher.exception, GovDataError) and "may only lower" in str(higher.exception)  # type: ignore[attr-defined]
    lower = _cli(svc, monkeypatch, "olga", "sql", "run", COUNT, "--role", "citizen", "--json")
    assert lower.exit_code == 0 and json.loads(lower.output)["rows"] == [["d1", 3]]  # type: ignore[attr-defined]
    assert svc.audit.recent(limit=1)[0].role == "citizen"
    svc.disable_user("olga", role=STEWARD)
    gone = _cli(svc, monkeypatch, "olga", "sql", "run", COUNT)
    assert "disabled" in str(gone.exception)  # type: ignore[attr-defined]
    made = _cli(svc, monkeypatch, "steward-ana", "grants", "create", "transit-co", "trips", "--purpose", "p",
                "--until", UNTIL, "--json")
    assert made.exit_code == 0 and json.loads(made.output)["id"] == "g0002"  # type: ignore[attr-defined]


def test_a_grant_of_a_table_about_people_keeps_its_unit_column_out_of_the_file(svc: Services,
                                                                              tmp_path: Path) -> None:
    """Trips declared as about people (unit column id): the grantee stays under disclosure control; its file holds
    no id column, the schema still lists id (with no values), and counting people by it runs."""
    describe = tmp_path / "data" / "people.describe.json"
    describe.write_text(json.dumps({"unit": "person", "unit_column": "id"}), encoding="utf-8")
    svc.sql.approved.add(tmp_path / "data" / "trips.csv", name="trips", access_level="restricted public",
                         describe=describe)
    svc.create_grant("transit-co", "trips", purpose="route planning", until=UNTIL, columns="id,district,fare",
                     role=STEWARD)
    [table] = svc.sql_tables(OPERATOR, user="olga").tables
    column = next(c for c in table.columns if c.name == "id")
    assert [c.name for c in table.columns] == ["id", "district", "fare"] and not column.samples and not column.range
    result = svc.sql_run("SELECT count(DISTINCT id) AS n FROM trips", role=OPERATOR, user="olga")
    assert result.sdc is not None and result.rows[0][0] in range(5, 11)  # six people: at least k, perturbed
    assert "can only be counted" in refused(svc, "SELECT count(*) AS n FROM trips WHERE id = 1")


def test_a_grant_stored_with_a_predicate_that_no_longer_checks_opens_nothing(svc: Services) -> None:
    """A grant approved before the read-back check could hold the text sqlglot wrote back from a quoted unknown type
    (every district): each use checks the stored text again and fails closed."""
    two_columns(svc)
    assert svc.sql_run(COUNT, role=OPERATOR, user="olga").rows == [["d1", 3]]
    path = svc.settings.grants_path
    stored = "(\"fare\" >= CAST('0' AS oid)) OR ((\"district\" = 'd1')) AND (\"district\" = 'd2')"
    path.write_text(path.read_text(encoding="utf-8").replace(
        json.dumps("\"district\" = 'd1'")[1:-1], json.dumps(stored)[1:-1]), encoding="utf-8")
    assert svc.grant("g0001", role=STEWARD)["rows"] == stored
    assert "no approved tables" in refused(svc)
