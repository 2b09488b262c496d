"""Grants over REST (issue 33's use cases at /api/v1): an operator's program, holding a token made for its
organisation, asks for access, reads its grants and queries under them; a steward's token decides, narrows and ends
them; the next call sees every change; refusals are 403/404/422 naming the field, and receipts say `interface: api`
and the token's name. Real approved tables and profile files (tests/unit/grant_home.py)."""

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import build_api
from assistant.policy.users import add_user
from assistant.services import Services
from core.errors import FieldError
from tests.unit.grant_home import OPERATOR, STEWARD, grant_home

UNTIL = (date.today() + timedelta(days=30)).isoformat()
COUNT = "SELECT district, count(*) AS n FROM trips GROUP BY district ORDER BY district"


class Callers:
    """A client for the API and a bearer header per token: the steward, transit-co's bot, a bot of no
    organisation and one of another organisation."""

    def __init__(self, svc: Services, client: TestClient) -> None:
        svc.add_organisation("city-dept", kind="department", contact="ops desk", role=STEWARD)
        self.svc, self.client = svc, client
        self.headers = {name: {"Authorization": f"Bearer {svc.create_token(name, role, org=org, role=STEWARD)[1]}"}
                        for name, role, org in (("steward-bot", STEWARD, None), ("transit-bot", OPERATOR, "transit-co"),
                                                ("lone-bot", OPERATOR, None), ("city-bot", "civil_servant",
                                                                               "city-dept"))}

    def get(self, who: str, url: str, **params: Any) -> Any:
        return self.client.get(url, params=params, headers=self.headers[who])

    def post(self, who: str, url: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(url, json=body or {}, headers=self.headers[who])


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Callers]:
    svc = grant_home(tmp_path)
    with TestClient(build_api(svc.for_interface("api")), raise_server_exceptions=False) as client:
        yield Callers(svc, client)


def request_two_columns(api: Callers) -> dict[str, Any]:
    answer = api.post("transit-bot", "/grant-requests", {"dataset": "trips", "purpose": "timetable app",
                                                         "until": UNTIL, "columns": "district,route,fare"})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_an_operator_asks_a_steward_narrows_and_the_grant_opens_at_the_next_call(api: Callers) -> None:
    assert "no approved tables" in api.post("transit-bot", "/sql/run", {"sql": COUNT}).json()["error"]
    asked = request_two_columns(api)
    assert (asked["id"], asked["status"], asked["org"], asked["user"]) == ("r0001", "pending", "transit-co",
                                                                          "token:transit-bot")
    queue = api.get("steward-bot", "/grant-requests", status="pending").json()
    assert [r["id"] for r in queue["results"]] == ["r0001"] and queue["total"] == 1 and queue["next"] is None
    grant = api.post("steward-bot", "/grant-requests/r0001/approve",
                     {"columns": "district,route", "rows": "district = 'd1'", "note": "no fares"}).json()
    assert (grant["id"], grant["state"], grant["columns"], grant["request"]) == ("g0001", "active",
                                                                                ["district", "route"], "r0001")
    mine = api.get("transit-bot", "/grants").json()
    assert [g["id"] for g in mine["results"]] == ["g0001"]
    assert api.get("transit-bot", "/grant-requests").json()["results"][0]["status"] == "approved"
    result = api.post("transit-bot", "/sql/run", {"sql": COUNT}).json()
    assert result["rows"] == [["d1", 3]] and result["grants"] == ["g0001"]
    receipt = api.svc.audit.recent(limit=1)[0]
    assert (receipt.action, receipt.user, receipt.interface, receipt.grants) == ("sql.run", "token:transit-bot",
                                                                                 "api", ["g0001"])


@pytest.mark.parametrize("action", ["revoke", "suspend"])
def test_a_steward_ends_a_grant_over_the_api_and_the_next_query_is_refused(api: Callers, action: str) -> None:
    made = api.post("steward-bot", "/grants", {"organisation": "transit-co", "dataset": "trips",
                                               "purpose": "route planning", "until": UNTIL,
                                               "columns": "district,route"}).json()
    assert made["id"] == "g0001" and api.post("transit-bot", "/sql/run", {"sql": COUNT}).status_code == 200
    ended = api.post("steward-bot", f"/grants/g0001/{action}", {"reason": "contract ended"}).json()
    assert ended["state"] == ("revoked" if action == "revoke" else "suspended")
    refused = api.post("transit-bot", "/sql/run", {"sql": COUNT})
    assert refused.status_code == 400 and "no approved tables" in refused.json()["error"]
    receipt = next(r for r in api.svc.audit.recent(limit=5) if r.action == "grants.manage")
    assert (receipt.user, receipt.interface, receipt.grants) == ("token:steward-bot", "api", ["g0001"])
    if action == "suspend":
        assert api.post("steward-bot", "/grants/g0001/resume", {}).json()["state"] == "active"
        assert api.post("transit-bot", "/sql/run", {"sql": COUNT}).json()["rows"][0][0] == "d1"


def test_an_amended_term_keeps_the_old_version_in_the_history(api: Callers) -> None:
    api.post("steward-bot", "/grants", {"organisation": "transit-co", "dataset": "trips", "purpose": "planning",
                                        "until": UNTIL})
    shorter = (date.today() + timedelta(days=7)).isoformat()
    amended = api.post("steward-bot", "/grants/g0001/amend", {"until": shorter, "columns": "district"}).json()
    assert (amended["until"], amended["columns"], amended["version"]) == (shorter, ["district"], 2)
    shown = api.get("transit-bot", "/grants/g0001").json()
    assert shown["history"][0]["until"] == UNTIL and shown["history"][0]["change"].startswith("amended:")


def test_only_a_steward_decides_and_another_organisations_grant_is_not_found(api: Callers) -> None:
    request_two_columns(api)
    for url, body in (("/grants", {"organisation": "transit-co", "dataset": "trips", "purpose": "x",
                                   "until": UNTIL}),
                      ("/grant-requests/r0001/approve", {}), ("/grant-requests/r0001/reject", {"reason": "no"}),
                      ("/organisations", {"name": "bus-co", "kind": "operator", "contact": "x"})):
        answer = api.post("transit-bot", url, body)
        assert answer.status_code == 403 and "may not" in answer.json()["error"], url
    assert api.get("transit-bot", "/organisations").status_code == 403
    api.post("steward-bot", "/grant-requests/r0001/approve", {})
    unknown, hidden = api.get("city-bot", "/grants/g0099"), api.get("city-bot", "/grants/g0001")
    assert unknown.status_code == hidden.status_code == 404
    assert unknown.json()["error"].replace("g0099", "ID") == hidden.json()["error"].replace("g0001", "ID")
    assert api.get("city-bot", "/grants").json() == {"results": [], "total": 0, "offset": 0, "next": None}
    assert api.get("city-bot", "/grant-requests").json()["results"] == []


def test_a_rejection_reaches_the_requester_with_its_reason(api: Callers) -> None:
    request_two_columns(api)
    rejected = api.post("steward-bot", "/grant-requests/r0001/reject", {"reason": "fares are not shared"}).json()
    assert (rejected["status"], rejected["reason"]) == ("rejected", "fares are not shared")
    [mine] = api.get("transit-bot", "/grant-requests").json()["results"]
    assert (mine["status"], mine["reason"]) == ("rejected", "fares are not shared")
    assert api.get("transit-bot", "/grants").json()["total"] == 0


BAD = [
    ({"until": "next june"}, "until", "expected a date"),
    ({"start": "soon"}, "start", "expected a date"),
    ({"dataset": "no-such-table"}, "dataset", "no approved table or catalog record"),
    ({"organisation": "bus-co"}, "organisation", "no organisation has this name"),
    ({"rows": "districtx = 'd1'"}, "rows", "no column 'districtx'"),
    ({"purpose": " "}, "purpose", "must not be empty"),
]


@pytest.mark.parametrize(("change", "field", "problem"), BAD)
def test_a_bad_grant_is_a_422_naming_the_body_field_and_nothing_is_stored(api: Callers, change: dict[str, str],
                                                                           field: str, problem: str) -> None:
    before = api.svc.settings.grants_path.read_bytes()
    body = {"organisation": "transit-co", "dataset": "trips", "purpose": "planning", "until": UNTIL} | change
    answer = api.post("steward-bot", "/grants", body)
    assert answer.status_code == 422 and answer.json()["field"] == field, answer.text
    assert problem in answer.json()["error"] and answer.json()["error"].startswith(field)
    assert api.svc.settings.grants_path.read_bytes() == before


def test_a_request_needs_an_organisation_and_a_schema_error_names_the_field(api: Callers) -> None:
    lone = api.post("lone-bot", "/grant-requests", {"dataset": "trips", "purpose": "x", "until": UNTIL})
    assert lone.status_code == 422 and lone.json()["field"] == "user" and "no organisation" in lone.json()["error"]
    missing = api.post("transit-bot", "/grant-requests", {"dataset": "trips", "until": UNTIL})
    assert missing.status_code == 422 and missing.json()["field"] == "purpose"
    long = api.post("transit-bot", "/grant-requests", {"dataset": "trips", "purpose": "x", "until": UNTIL,
                                                       "columns": "c" * 5000})
    assert long.status_code == 422 and long.json()["field"] == "columns"
    assert api.get("steward-bot", "/grant-requests").json()["total"] == 0


def test_organisations_are_registered_and_listed_as_pages(api: Callers) -> None:
    made = api.post("steward-bot", "/organisations", {"name": "Bus-Co", "kind": "operator",
                                                      "contact": "licensing desk"}).json()
    assert (made["name"], made["kind"]) == ("bus-co", "operator")
    page = api.get("steward-bot", "/organisations", limit=2).json()
    assert page["total"] == 3 and len(page["results"]) == 2 and page["next"] == 2
    assert api.post("steward-bot", "/organisations", {"name": "x", "kind": "shop", "contact": "y"}).json()[
        "field"] == "kind"


def test_every_refusal_leaves_a_receipt_naming_the_token(api: Callers) -> None:
    for url, body in (("/grants/g0042/revoke", {}), ("/grant-requests/r0042/approve", {})):
        assert api.post("transit-bot", url, body).status_code == 403
        receipt = api.svc.audit.recent(limit=1)[0]
        assert (receipt.action, receipt.user, receipt.interface) == ("grants.manage", "token:transit-bot", "api")
        assert receipt.outcome.startswith("refused:")


def test_a_nested_predicate_is_a_422_not_a_500(api: Callers) -> None:
    nested = "(" * 240 + "fare = 1" + ")" * 240
    for who, url in (("transit-bot", "/grant-requests"), ("steward-bot", "/grants")):
        answer = api.post(who, url, {"dataset": "trips", "organisation": "transit-co", "purpose": "x",
                                     "until": UNTIL, "rows": nested})
        assert answer.status_code == 422 and answer.json()["field"] == "rows", answer.text
        assert "nested too deeply" in answer.json()["error"]


def test_every_item_of_a_long_list_can_be_reached_page_by_page(api: Callers) -> None:
    for n in range(55):
        api.svc.create_grant("transit-co", "trips", purpose=f"study {n}", until=UNTIL, role=STEWARD)
    first = api.get("transit-bot", "/grants", limit=50).json()
    assert (first["total"], len(first["results"]), first["next"]) == (55, 50, 50)
    rest = api.get("transit-bot", "/grants", offset=first["next"], limit=50).json()
    assert [g["id"] for g in rest["results"]] == [f"g{n:04d}" for n in range(5, 0, -1)] and rest["next"] is None


def test_an_organisation_may_keep_only_so_many_requests_waiting(api: Callers) -> None:
    for _ in range(20):  # as olga, a member of transit-co (the token's pace would stop a script sooner)
        api.svc.request_grant("trips", purpose="timetable", until=UNTIL, role=OPERATOR, user="olga")
    over = api.post("transit-bot", "/grant-requests", {"dataset": "trips", "purpose": "one more", "until": UNTIL})
    assert over.status_code == 400 and "transit-co has 20 requests waiting for a steward" in over.json()["error"]
    assert api.get("steward-bot", "/grant-requests").json()["total"] == 20
    api.post("steward-bot", "/grant-requests/r0001/reject", {"reason": "duplicate"})
    assert request_two_columns(api)["id"] == "r0021"


def test_bad_input_of_every_steward_route_names_the_field_the_caller_sent(api: Callers) -> None:
    later = (date.today() + timedelta(days=10)).isoformat()
    api.post("transit-bot", "/grant-requests", {"dataset": "trips", "purpose": "x", "until": UNTIL, "start": later})
    api.post("steward-bot", "/grants", {"organisation": "transit-co", "dataset": "trips", "purpose": "x",
                                        "until": UNTIL})
    shorter = (date.today() + timedelta(days=5)).isoformat()
    for url, body, field in (("/grant-requests/r0001/approve", {"until": shorter}, "until"),
                             ("/grant-requests/r0001/approve", {"start": "soon"}, "start"),
                             ("/grants/g0001/amend", {"start": "soon"}, "start"),
                             ("/organisations", {"name": "Bad Name!", "kind": "operator", "contact": "x"}, "name")):
        answer = api.post("steward-bot", url, body)
        assert answer.status_code == 422 and answer.json()["field"] == field, (url, answer.text)
        assert answer.json()["error"].startswith(field)


def test_a_caller_without_a_token_belongs_to_no_organisation(tmp_path: Path) -> None:
    svc = grant_home(tmp_path, api={"anonymous_role": OPERATOR})
    with pytest.raises(FieldError, match="callers without a token"):
        svc.add_user("anonymous", OPERATOR, password="anonymous-1", org="transit-co", role=STEWARD)
    with pytest.raises(FieldError, match="callers without a token"):
        svc.create_token("Anonymous", OPERATOR, org="transit-co", role=STEWARD)
    users = svc.settings.users_path
    assert users is not None  # a users file written before the name was refused
    add_user(users, "walk-in", OPERATOR, "walk-in-pass", "transit-co")
    users.write_text(users.read_text(encoding="utf-8").replace('"walk-in"', '"anonymous"'), encoding="utf-8")
    assert svc.organisation("anonymous") == ""
    svc.create_grant("transit-co", "trips", purpose="planning", until=UNTIL, role=STEWARD)
    with TestClient(build_api(svc.for_interface("api")), raise_server_exceptions=False) as client:
        asked = client.post("/grant-requests", json={"dataset": "trips", "purpose": "x", "until": UNTIL})
        assert asked.status_code == 422 and asked.json()["field"] == "user"
        assert client.get("/grants").json()["total"] == 0
        assert "no approved tables" in client.post("/sql/run", json={"sql": COUNT}).json()["error"]


def test_a_request_cannot_undo_the_narrowing_a_steward_adds(api: Callers) -> None:
    """Found by a red-team: `CAST('0' AS "oid)) OR ((district = 'd1'")` was stored as a predicate that closed the
    approval's brackets, so `(asked) AND (steward's)` selected every district."""
    sly = api.post("transit-bot", "/grant-requests", {"dataset": "trips", "purpose": "x", "until": UNTIL,
                                                      "rows": "fare >= CAST('0' AS \"oid)) OR ((district = 'd1'\")"})
    assert sly.status_code == 422 and sly.json()["field"] == "rows"
    asked = api.post("transit-bot", "/grant-requests", {"dataset": "trips", "purpose": "x", "until": UNTIL,
                                                        "rows": "fare >= 0 OR district = 'd1'"}).json()
    grant = api.post("steward-bot", f"/grant-requests/{asked['id']}/approve", {"rows": "district = 'd2'"}).json()
    assert grant["rows"] == "(\"fare\" >= 0 OR \"district\" = 'd1') AND (\"district\" = 'd2')"
    rows = api.post("transit-bot", "/sql/run", {"sql": COUNT}).json()["rows"]
    assert rows == [["d2", 2]]


def test_an_approval_that_cannot_run_the_predicate_shows_no_value(api: Callers) -> None:
    asked = api.post("transit-bot", "/grant-requests", {"dataset": "trips", "purpose": "x", "until": UNTIL,
                                                        "rows": "plate = 1"}).json()
    refused = api.post("steward-bot", f"/grant-requests/{asked['id']}/approve", {})
    assert refused.status_code == 422 and "does not run on trips" in refused.json()["error"]
    assert "京A" not in refused.text and "京A" not in api.svc.audit.recent(limit=1)[0].outcome
