"""The REST API (issue 31) over a real store and real approved tables: the bearer token decides the role, bad input
is a 422 naming the field (never a 500), lists are pages, refusals say why, shapes are the CLI's `--json`, and every
call leaves a receipt that says `interface: api` and the token's name."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from assistant import shapes
from assistant.api.app import build_api
from tests.unit.shells import STEWARD, ShellHome, shell_home

RESTRICTED = "OASAM BOC-25-012:044-217"  # Motor Vehicle Fleet data, restricted public
PUBLIC = "WHD-16-012:027-381"  # Wage and Hour Division Compliance Action Data, 3 distributions


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> ShellHome:
    return shell_home(tmp_path_factory.mktemp("api"), api={"requests_per_minute": 0})  # pace: its own test


@pytest.fixture(scope="module")
def client(home: ShellHome) -> Iterator[TestClient]:
    with TestClient(build_api(home.services.for_interface("api")), raise_server_exceptions=False) as client:
        yield client


def get(client: TestClient, home: ShellHome, who: str, url: str, **params: Any) -> Any:
    return client.get(url, params=params, headers=home.bearer(who))


def post(client: TestClient, home: ShellHome, who: str, url: str, body: Any) -> Any:
    return client.post(url, json=body, headers=home.bearer(who))


def test_the_openapi_document_lists_every_operation(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert operations == {
        ("GET", "/datasets/search"), ("GET", "/datasets/{id}"), ("GET", "/catalog/overview"),
        ("GET", "/documents/search"), ("GET", "/documents/{id}"), ("POST", "/ask"), ("GET", "/tables"),
        ("POST", "/sql/check"), ("POST", "/sql/run"), ("POST", "/sql/ask"), ("POST", "/knowledge"),
        ("GET", "/knowledge"), ("GET", "/knowledge/{id}"), ("POST", "/knowledge/{id}/review"),
        ("GET", "/organisations"), ("POST", "/organisations"), ("GET", "/grants"), ("POST", "/grants"),
        ("GET", "/grants/{id}"), ("POST", "/grants/{id}/amend"), ("POST", "/grants/{id}/revoke"),
        ("POST", "/grants/{id}/suspend"), ("POST", "/grants/{id}/resume"), ("GET", "/grant-requests"),
        ("POST", "/grant-requests"), ("POST", "/grant-requests/{id}/approve"), ("POST", "/grant-requests/{id}/reject")}
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    search = document["paths"]["/datasets/search"]["get"]["parameters"]
    assert next(p for p in search if p["name"] == "k")["schema"]["maximum"] == 50


@pytest.mark.parametrize(("headers", "reason"), [
    ({}, "no token"), ({"Authorization": "Bearer gdt_made_up"}, "unknown token"),
    ({"Authorization": "Token abc"}, "must be: Bearer TOKEN")])
def test_a_request_without_a_valid_token_gets_401_with_the_reason(client: TestClient, headers: dict[str, str],
                                                                   reason: str) -> None:
    answer = client.get("/tables", headers=headers)
    assert answer.status_code == 401 and reason in answer.json()["error"]
    assert answer.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_a_revoked_token_gets_401_saying_so(client: TestClient, home: ShellHome) -> None:
    answer = get(client, home, "revoked", "/tables")
    assert answer.status_code == 401 and answer.json()["error"].startswith("unauthorized: token 'old' revoked on")


def test_a_citizen_never_finds_a_restricted_record_and_a_steward_does(client: TestClient, home: ShellHome) -> None:
    words = "Motor Vehicle Fleet data"
    citizen = get(client, home, "citizen", "/datasets/search", q=words, k=50).json()
    assert citizen["results"] and {r["access_level"] for r in citizen["results"]} == {"public"}
    assert RESTRICTED not in [r["identifier"] for r in citizen["results"]]
    steward = get(client, home, STEWARD, "/datasets/search", q=words, k=5).json()
    assert steward["results"][0]["identifier"] == RESTRICTED
    assert get(client, home, "citizen", f"/datasets/{quote(RESTRICTED)}").status_code == 404
    assert get(client, home, "civil_servant", f"/datasets/{quote(RESTRICTED)}").status_code == 200


def test_a_hidden_record_and_a_missing_one_are_the_same_not_found(client: TestClient, home: ShellHome) -> None:
    hidden = get(client, home, "citizen", f"/datasets/{quote(RESTRICTED)}").json()
    missing = get(client, home, "citizen", "/datasets/no-such-dataset").json()
    assert hidden["error"].replace(RESTRICTED, "X") == missing["error"].replace("no-such-dataset", "X")
    assert hidden["field"] == "id" and "no dataset has this id" in hidden["error"]
    assert get(client, home, "citizen", "/documents/no-such-passage").status_code == 404


def test_a_dataset_record_is_whole_with_distributions_and_licence(client: TestClient, home: ShellHome) -> None:
    record = get(client, home, "citizen", f"/datasets/{PUBLIC}").json()
    assert record["identifier"] == PUBLIC and len(record["distributions"]) == 3 and record["license"]
    assert {"publisher", "description", "modified", "keywords", "quality"} <= set(record)
    assert "modified_ymd" not in record


def test_lists_are_pages_that_say_how_many_and_where_the_next_starts(client: TestClient, home: ShellHome) -> None:
    first = get(client, home, STEWARD, "/datasets/search", q="data", k=15).json()  # 40 records and 2 tables
    assert first["total"] == 42 and first["offset"] == 0 and first["next"] == 15 and len(first["results"]) == 15
    pages = [first] + [get(client, home, STEWARD, "/datasets/search", q="data", k=15, offset=o).json()
                       for o in (15, 30)]
    assert [p["next"] for p in pages] == [15, 30, None] and [len(p["results"]) for p in pages] == [15, 15, 12]
    ids = [r["identifier"] for p in pages for r in p["results"]]
    assert len(set(ids)) == 42
    too_deep = get(client, home, STEWARD, "/datasets/search", q="data", k=20, offset=40)
    assert too_deep.status_code == 422 and too_deep.json()["field"] == "offset"
    tables = get(client, home, "citizen", "/tables", limit=1).json()
    assert (tables["total"], tables["next"], len(tables["results"])) == (2, 1, 1)


@pytest.mark.parametrize(("method", "url", "body", "field"), [
    ("get", "/datasets/search?q=data&k=1000000", None, "k"),
    ("get", "/datasets/search?q=data&k=0", None, "k"),
    ("get", "/datasets/search?q=data&k=ten", None, "k"),
    ("get", "/datasets/search?k=3", None, "q"),
    ("get", "/datasets/search?q=" + "x" * 2001, None, "q"),
    ("get", "/datasets/search?q=data&offset=-1", None, "offset"),
    ("get", "/datasets/search?q=data&publisher=" + "p" * 501, None, "publisher"),
    ("get", "/datasets/search?q=data&since=yesterday", None, "since"),
    ("get", "/datasets/search?q=data&access_level=secret", None, "access_level"),
    ("post", "/sql/run", {"sql": 5}, "sql"),
    ("post", "/sql/run", {}, "sql"),
    ("post", "/sql/run", {"sql": "SELECT 1 " + "-" * 30_000}, "sql"),
    ("post", "/sql/run", [1, 2], "sql"),
    ("post", "/ask", {"question": ["a"]}, "question"),
    ("post", "/sql/ask", {"question": "q", "dataset": {"x": 1}}, "dataset"),
])
def test_bad_input_is_a_422_naming_the_field(client: TestClient, home: ShellHome, method: str, url: str, body: Any,
                                             field: str) -> None:
    answer = getattr(client, method)(url, headers=home.bearer("citizen"),
                                     **({} if body is None else {"json": body}))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field and answer.json()["error"]
    assert "Traceback" not in answer.text and "p" * 100 not in answer.text  # the value is not echoed


def test_a_malformed_body_is_a_422_and_a_huge_one_a_413(client: TestClient, home: ShellHome) -> None:
    headers = home.bearer("citizen") | {"Content-Type": "application/json"}
    broken = client.post("/sql/run", content=b'{"sql": "SELECT', headers=headers)
    assert broken.status_code == 422 and broken.json()["field"] == "body"
    huge = client.post("/sql/run", content=b'{"sql": "' + b"x" * 300_000 + b'"}', headers=headers)
    assert huge.status_code == 413 and "GOVDATA_API__MAX_BODY_BYTES" in huge.json()["error"]
    chunks = client.post("/sql/run", content=iter([b'{"sql": "', b"x" * 200_000, b"x" * 200_000, b'"}']),
                         headers=headers)  # sent in chunks, without a Content-Length
    assert chunks.status_code == 413
    small = client.post("/sql/run", content=iter([b'{"sql": ', b'"SELECT count(*) FROM permits"}']), headers=headers)
    assert small.status_code == 200 and small.json()["rows"] == [[5]]
    long_id = get(client, home, "citizen", "/datasets/" + "d" * 600)
    assert long_id.status_code == 422 and long_id.json()["field"] == "id"


def test_sql_run_is_refused_with_the_guards_reason_and_masks_for_a_citizen(client: TestClient,
                                                                            home: ShellHome) -> None:
    refused = post(client, home, "citizen", "/sql/run", {"sql": "SELECT * FROM pg_settings"})
    assert refused.status_code == 403
    assert refused.json()["reason"] == "table 'pg_settings' is not an approved table for this role"
    denied = post(client, home, "citizen", "/sql/run", {"sql": 'SELECT "Phone" FROM permits'})
    assert denied.status_code == 403 and denied.json()["reason"] == "column permits.phone is not available to this role"
    sql = {"sql": "SELECT holder FROM applicants ORDER BY case_no LIMIT 1"}
    masked = post(client, home, "citizen", "/sql/run", sql).json()
    assert masked["rows"] == [["[ID ***5927]"]]
    assert post(client, home, STEWARD, "/sql/run", sql).json()["rows"] == [["110105198003245927"]]


def test_json_shapes_are_the_clis(client: TestClient, home: ShellHome, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    monkeypatch.setenv("GOVDATA_HOME", str(home.services.settings.home))
    sql = "SELECT kind, sum(Fee) AS fees FROM permits GROUP BY kind ORDER BY kind"
    cli = json.loads(CliRunner().invoke(app, ["sql", "check", sql, "--json"]).output)
    assert post(client, home, "citizen", "/sql/check", {"sql": sql}).json() == cli
    cli_tables = json.loads(CliRunner().invoke(app, ["sql", "tables", "--json"]).output)
    assert get(client, home, "citizen", "/tables").json()["results"] == cli_tables
    ran = post(client, home, "citizen", "/sql/run", {"sql": sql}).json()
    expected = shapes.sql_result(home.services.sql_run(sql, role="citizen"))
    assert set(ran) == set(expected) and ran["rows"] == expected["rows"]
    cli_record = json.loads(CliRunner().invoke(app, ["datasets", "show", PUBLIC, "--json"]).output)
    assert get(client, home, "citizen", f"/datasets/{PUBLIC}").json() == cli_record
    cli_overview = json.loads(CliRunner().invoke(app, ["datasets", "overview", "--json"]).output)
    assert get(client, home, "citizen", "/catalog/overview").json() == cli_overview


def test_ask_and_sql_ask_answer_in_the_clis_shape(client: TestClient, home: ShellHome,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The model is scripted here (its answers are tested elsewhere): these are the routes and their shapes."""
    from assistant.models import Answer
    from assistant.services import Services
    from assistant.sql.generate import SqlAnswer

    class Answerer:
        def ask_stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
            yield Answer(answer="Not in the guides.", found=False, language="en", closest_sources=["guide.md"])

    class Generator:
        def ask(self, question: str, context: Any, examples: Any) -> Any:
            return SqlAnswer(question, "SELECT count(*) AS n FROM permits", "how many permits")

    monkeypatch.setattr(Services, "answerer", lambda self: Answerer())
    monkeypatch.setattr(type(home.services.sql), "generator", property(lambda self: Generator()))
    answer = post(client, home, "citizen", "/ask", {"question": "How long may a reply take?"}).json()
    assert answer["found"] is False and answer["closest_sources"] == ["guide.md"] and answer["receipt_id"]
    assert set(answer) == set(shapes.answer(Answer(answer="", found=False, language="en")))
    sql = post(client, home, "citizen", "/sql/ask", {"question": "How many permits?", "dataset": "permits"}).json()
    assert sql["sql"] == "SELECT count(*) AS n FROM permits" and sql["explanation"] == "how many permits"
    assert set(sql) == set(shapes.sql_answer(SqlAnswer("q", "", ""))) and sql["receipt_id"]
    assert [r.action for r in home.services.audit.recent(limit=2)] == ["sql.ask", "ask"]


def test_every_call_leaves_a_receipt_naming_the_interface_and_the_token(client: TestClient,
                                                                         home: ShellHome) -> None:
    log = home.services.audit
    before = log.verify().entries
    get(client, home, "civil_servant", "/catalog/overview")
    get(client, home, "civil_servant", "/documents/search", q="digital take-up", k=2)
    post(client, home, "civil_servant", "/sql/check", {"sql": "SELECT 1"})
    get(client, home, "civil_servant", "/datasets/search", q="x", k=1000)  # refused by the schema: no use case ran
    receipts = log.recent(limit=3)
    assert log.verify().entries == before + 3 and log.verify().ok
    assert [(r.action, r.interface, r.user, r.role) for r in reversed(receipts)] == [
        ("catalog.overview", "api", "token:civil-servant", "civil_servant"),
        ("docs.search", "api", "token:civil-servant", "civil_servant"),
        ("sql.check", "api", "token:civil-servant", "civil_servant")]
    report = home.services.disclose(role=STEWARD)
    assert "api" in report["by_interface"]


def test_the_overview_counts_only_what_the_role_may_see(client: TestClient, home: ShellHome) -> None:
    citizen = get(client, home, "citizen", "/catalog/overview").json()
    steward = get(client, home, STEWARD, "/catalog/overview").json()
    assert citizen["datasets"] == 22 and citizen["by_access_level"] == {"public": 22}  # 20 records and 2 tables
    assert steward["datasets"] == 42 and steward["by_access_level"] == {
        "public": 22, "restricted public": 10, "non-public": 10}
    assert citizen["approved_tables"] == 2 and citizen["documents"] == 1
    assert citizen["publishers"][0]["datasets"] >= citizen["publishers"][-1]["datasets"]
    assert citizen["modified"]["earliest"] <= citizen["modified"]["latest"]


def test_a_token_over_its_pace_gets_429_with_retry_after(tmp_path: Path) -> None:
    home = shell_home(tmp_path, api={"requests_per_minute": 2, "burst": 2})
    with TestClient(build_api(home.services.for_interface("api"))) as client:
        codes = [client.get("/tables", headers=home.bearer("citizen")).status_code for _ in range(3)]
        limited = client.get("/tables", headers=home.bearer("citizen"))
        other = client.get("/tables", headers=home.bearer(STEWARD))
    assert codes == [200, 200, 429] and limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1 and "requests a minute" in limited.json()["error"]
    assert other.status_code == 200


def test_an_operator_may_allow_calls_without_a_token_as_citizen(tmp_path: Path) -> None:
    home = shell_home(tmp_path, api={"anonymous_role": "citizen"})
    with TestClient(build_api(home.services.for_interface("api"))) as client:
        answer = client.get("/datasets/search", params={"q": "Motor Vehicle Fleet data", "k": 50})
    assert answer.status_code == 200 and {r["access_level"] for r in answer.json()["results"]} == {"public"}
    assert home.services.audit.recent(limit=1)[0].user == "anonymous"


def test_knowledge_is_proposed_listed_and_reviewed_over_the_api_as_the_cli_does(client: TestClient,
                                                                              home: ShellHome) -> None:
    """Front doors for the knowledge loop (issue 32's use cases): the token's role decides, refusals say why."""
    sql = "SELECT count(*) FROM permits WHERE kind = 'building'"
    made = post(client, home, "civil_servant", "/knowledge", {"kind": "pair", "question": "Building permits?",
                                                               "sql": sql})
    assert made.status_code == 200 and made.json()["status"] == "proposed", made.text
    item = made.json()["id"]
    assert made.json() == home.services.knowledge_item(item, role=STEWARD).as_dict()  # the CLI's --json shape
    assert get(client, home, "civil_servant", "/knowledge").status_code == 403  # the queue is the stewards'
    assert get(client, home, "civil_servant", f"/knowledge/{item}").json()["id"] == item  # its proposer may look
    queue = get(client, home, STEWARD, "/knowledge", status="proposed").json()
    assert [i["id"] for i in queue["results"]] == [item] and queue["total"] == 1
    refused = post(client, home, "civil_servant", f"/knowledge/{item}/review", {"approve": True})
    assert refused.status_code == 403 and "may not review knowledge" in refused.text
    done = post(client, home, STEWARD, f"/knowledge/{item}/review", {"approve": True})
    assert done.status_code == 200 and done.json()["status"] == "approved"
    bad = post(client, home, "civil_servant", "/knowledge", {"kind": "pair", "question": "Drop?",
                                                              "sql": "DROP TABLE permits"})
    assert bad.status_code in (400, 403, 422) and "only a query" in bad.text
    missing = post(client, home, STEWARD, "/knowledge/k999/review", {"approve": False, "reason": "x"})
    assert missing.status_code == 404 and "k999" in missing.text  # no such id, as for a dataset; names the value
    assert get(client, home, STEWARD, "/knowledge/k999").status_code == 404
