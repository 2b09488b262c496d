"""The REST API on a real `govdata serve` (issue 31), through httpx: a citizen token finds datasets and never a
restricted one, is refused `sql_run` on an unapproved table with the guard's reason and gets personal data masked;
a steward token sees everything; a revoked token is refused; the OpenAPI document lists every operation; every call
leaves a receipt naming the interface and the token; the web app still answers on the same port."""

from urllib.parse import quote

import httpx
import pytest

from .conftest import ApiServer

pytestmark = pytest.mark.e2e
RESTRICTED = "OASAM BOC-25-012:044-217"  # Motor Vehicle Fleet data (restricted public)
NON_PUBLIC = "OASAM OCIO-25-012:044-252"  # MDM OS Compliance Tracker (non-public)


@pytest.fixture(scope="module")
def api(api_server: ApiServer) -> httpx.Client:
    return httpx.Client(base_url=f"{api_server.url}/api/v1", timeout=60)


def test_the_openapi_document_lists_every_operation(api: httpx.Client) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert {(m.upper(), p) for p, item in paths.items() for m in item} == {
        ("GET", "/datasets/search"), ("GET", "/datasets/{id}"), ("GET", "/catalog/overview"),
        ("GET", "/documents/search"), ("GET", "/documents/{id}"), ("POST", "/ask"), ("GET", "/tables"),
        ("POST", "/sql/check"), ("POST", "/sql/run"), ("POST", "/sql/ask"), ("POST", "/knowledge"),
        ("GET", "/knowledge"), ("GET", "/knowledge/{id}"), ("POST", "/knowledge/{id}/review"),
        ("GET", "/organisations"), ("POST", "/organisations"), ("GET", "/grants"), ("POST", "/grants"),
        ("GET", "/grants/{id}"), ("POST", "/grants/{id}/amend"), ("POST", "/grants/{id}/revoke"),
        ("POST", "/grants/{id}/suspend"), ("POST", "/grants/{id}/resume"), ("GET", "/grant-requests"),
        ("POST", "/grant-requests"), ("POST", "/grant-requests/{id}/approve"), ("POST", "/grant-requests/{id}/reject")}


def test_a_proposal_over_http_waits_for_a_steward(api: httpx.Client, api_server: ApiServer) -> None:
    """The knowledge loop through a real server and client: a citizen's agent proposes, the queue is the steward's."""
    made = api.post("/knowledge", json={"kind": "pair", "question": "Permits by kind?",
                                        "sql": "SELECT kind, count(*) FROM permits GROUP BY kind"},
                    headers=api_server.bearer("citizen"))
    assert made.status_code == 200 and made.json()["status"] == "proposed", made.text
    assert api.get("/knowledge", headers=api_server.bearer("citizen")).status_code == 403
    queue = api.get("/knowledge", params={"status": "proposed"}, headers=api_server.bearer("data_steward")).json()
    assert made.json()["id"] in [i["id"] for i in queue["results"]]


def test_a_citizen_finds_datasets_and_never_a_restricted_one(api: httpx.Client, api_server: ApiServer) -> None:
    for words in ("Motor Vehicle Fleet data", "MDM OS Compliance Tracker", "汽车车队数据"):
        found = api.get("/datasets/search", params={"q": words, "k": 50}, headers=api_server.bearer("citizen"))
        assert found.status_code == 200 and found.json()["results"]
        assert {r["access_level"] for r in found.json()["results"]} == {"public"}, words
    wage = api.get("/datasets/search", params={"q": "wage and hour compliance actions", "k": 3},
                   headers=api_server.bearer("citizen")).json()
    assert "WHD-16-012:027-381" in [r["identifier"] for r in wage["results"]]
    assert wage["total"] == 22 and wage["next"] == 3  # 20 public records and 2 approved tables
    for hidden in (RESTRICTED, NON_PUBLIC):
        refused = api.get(f"/datasets/{quote(hidden)}", headers=api_server.bearer("citizen"))
        assert refused.status_code == 404 and "no dataset has this id" in refused.json()["error"]


def test_a_steward_sees_everything(api: httpx.Client, api_server: ApiServer) -> None:
    found = api.get("/datasets/search", params={"q": "MDM OS Compliance Tracker", "k": 3},
                    headers=api_server.bearer("data_steward")).json()
    assert found["results"][0]["identifier"] == NON_PUBLIC and found["total"] == 42
    record = api.get(f"/datasets/{quote(NON_PUBLIC)}", headers=api_server.bearer("data_steward")).json()
    assert record["access_level"] == "non-public"
    rows = api.post("/sql/run", json={"sql": "SELECT holder FROM applicants ORDER BY case_no LIMIT 1"},
                    headers=api_server.bearer("data_steward")).json()["rows"]
    assert rows == [["110105198003245927"]]


def test_sql_run_is_refused_with_the_guards_reason_and_personal_data_is_masked(api: httpx.Client,
                                                                               api_server: ApiServer) -> None:
    refused = api.post("/sql/run", json={"sql": "SELECT * FROM duckdb_settings()"},
                       headers=api_server.bearer("citizen"))
    assert refused.status_code == 403 and refused.json()["error"].startswith("rejected: ")
    unapproved = api.post("/sql/run", json={"sql": "SELECT * FROM audit_receipts"},
                          headers=api_server.bearer("citizen"))
    assert unapproved.status_code == 403
    assert unapproved.json()["reason"] == "table 'audit_receipts' is not an approved table for this role"
    masked = api.post("/sql/run", json={"sql": "SELECT holder FROM applicants ORDER BY case_no LIMIT 2"},
                      headers=api_server.bearer("citizen")).json()
    assert masked["rows"] == [["[ID ***5927]"], ["[ID ***2510]"]] and masked["receipt_id"]
    tables = api.get("/tables", headers=api_server.bearer("citizen")).json()
    assert tables["total"] == 2 and {t["name"] for t in tables["results"]} == {"permits", "applicants"}


@pytest.mark.parametrize(("headers", "reason"), [
    ({}, "no token"), ({"Authorization": "Bearer gdt_guessed"}, "unknown token")])
def test_without_a_valid_token_every_route_is_401(api: httpx.Client, headers: dict[str, str], reason: str) -> None:
    for method, url in (("GET", "/tables"), ("GET", "/datasets/search?q=x"), ("POST", "/sql/run")):
        answer = api.request(method, url, headers=headers, json={"sql": "SELECT 1"})
        assert answer.status_code == 401 and reason in answer.json()["error"], url


def test_a_revoked_token_is_refused_with_the_reason(api: httpx.Client, api_server: ApiServer) -> None:
    answer = api.get("/tables", headers=api_server.bearer("revoked"))
    assert answer.status_code == 401 and "token 'old' revoked on" in answer.json()["error"]


def test_bad_input_never_gets_a_500(api: httpx.Client, api_server: ApiServer) -> None:
    bearer = api_server.bearer("civil_servant")
    assert api.get("/datasets/search", params={"q": "x", "k": 10**6}, headers=bearer).json()["field"] == "k"
    assert api.post("/sql/run", content=b"{not json", headers=bearer | {"content-type": "application/json"}
                    ).status_code == 422
    assert api.post("/sql/run", json={"sql": "x" * 10**6}, headers=bearer).status_code == 413
    assert api.get("/documents/nothing-here", headers=bearer).status_code == 404


def test_every_call_leaves_a_receipt_with_interface_and_token(api: httpx.Client, api_server: ApiServer) -> None:
    from assistant.services import Services
    from core.settings import Settings

    log = Services(Settings(home=api_server.home)).audit
    before = log.verify().entries
    bearer = api_server.bearer("civil_servant")
    api.get("/catalog/overview", headers=bearer)
    api.get("/documents/search", params={"q": "digital take-up"}, headers=bearer)
    api.post("/sql/check", json={"sql": "SELECT count(*) FROM permits"}, headers=bearer)
    receipts = list(reversed(log.recent(limit=3)))
    assert log.verify().ok and log.verify().entries == before + 3
    assert [(r.action, r.interface, r.user, r.role) for r in receipts] == [
        ("catalog.overview", "api", "token:civil-servant", "civil_servant"),
        ("docs.search", "api", "token:civil-servant", "civil_servant"),
        ("sql.check", "api", "token:civil-servant", "civil_servant")]


def test_the_web_app_still_answers_on_the_same_port(api_server: ApiServer) -> None:
    page = httpx.get(api_server.url + "/", timeout=60)
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert httpx.get(api_server.url + "/config", timeout=60).status_code == 401  # the web app's sign-in holds
