"""Grants through the front doors for programs and agents (issue 33's use cases over REST and MCP) on a real
`govdata serve`, with real clients (httpx; the MCP SDK over streamable HTTP): an operator's program asks for access
to a restricted table, a steward's token approves it narrowed, the program's next query reads exactly the granted
rows, a steward's agent revokes it over MCP and the program's next query is refused. Set up with the real CLI."""

import asyncio
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from .conftest import ApiServer, govdata, serving

pytestmark = pytest.mark.e2e
UNTIL = (date.today() + timedelta(days=30)).isoformat()
COUNT = "SELECT district, count(*) AS n FROM trips GROUP BY district ORDER BY district"
TRIPS = "id,district,route,plate,fare\n1,d1,r10,A10001,2.0\n2,d2,r20,A20002,3.0\n3,d1,r11,A10003,2.5\n"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """A home with one restricted table (trips), the operator organisation transit-co, a steward token and a token
    of transit-co in the operator role, all made with the CLI; then `govdata serve` over it."""
    home = tmp_path_factory.mktemp("grants-home")
    data = home.parent / "trips.csv"
    data.write_text(TRIPS, encoding="utf-8")
    describe = home.parent / "trips.describe.json"
    describe.write_text(json.dumps({"title": "Bus trips", "columns": {"plate": {"sensitive": True}}}),
                        encoding="utf-8")
    steward = ["--role", "data_steward"]
    for step in (("datasets", "add", str(data), "--describe", str(describe), "--access-level", "restricted public"),
                 ("orgs", "add", "transit-co", "--kind", "operator", "--contact", "data office", *steward)):
        done = govdata(home, *step)
        assert done.code == 0, done.stderr
    tokens = {}
    for name, role, extra in (("steward-bot", "data_steward", ()),
                              ("transit-bot", "operator", ("--org", "transit-co"))):
        done = govdata(home, "tokens", "create", name, role, *extra, *steward, "--json")
        assert done.code == 0, done.stderr
        tokens[name] = json.loads(done.stdout)["token"]
    with serving(home) as url:
        yield ApiServer(url, home, tokens)


def test_a_program_asks_a_steward_approves_narrowed_and_the_next_query_reads_the_granted_rows(
        served: ApiServer) -> None:
    api = httpx.Client(base_url=f"{served.url}/api/v1", timeout=60)
    before = api.post("/sql/run", json={"sql": COUNT}, headers=served.bearer("transit-bot"))
    assert before.status_code == 400 and "no approved tables" in before.json()["error"]
    asked = api.post("/grant-requests", json={"dataset": "trips", "purpose": "timetable app", "until": UNTIL,
                                              "columns": "district,route"}, headers=served.bearer("transit-bot"))
    assert asked.status_code == 200 and asked.json()["status"] == "pending", asked.text
    denied = api.post(f"/grant-requests/{asked.json()['id']}/approve", json={}, headers=served.bearer("transit-bot"))
    assert denied.status_code == 403
    grant = api.post(f"/grant-requests/{asked.json()['id']}/approve", json={"rows": "district = 'd1'"},
                     headers=served.bearer("steward-bot"))
    assert grant.status_code == 200 and grant.json()["state"] == "active", grant.text
    rows = api.post("/sql/run", json={"sql": COUNT}, headers=served.bearer("transit-bot")).json()
    assert rows["rows"] == [["d1", 2]] and rows["grants"] == [grant.json()["id"]]
    plate = api.post("/sql/run", json={"sql": "SELECT plate FROM trips"}, headers=served.bearer("transit-bot"))
    assert plate.status_code == 403 and "not available" in plate.json()["error"]
    mine = api.get("/grants", headers=served.bearer("transit-bot")).json()
    assert [g["id"] for g in mine["results"]] == [grant.json()["id"]]


def test_a_stewards_agent_revokes_over_mcp_and_the_programs_next_query_is_refused(served: ApiServer) -> None:
    api = httpx.Client(base_url=f"{served.url}/api/v1", timeout=60)
    made = api.post("/grants", json={"organisation": "transit-co", "dataset": "trips", "purpose": "fares study",
                                     "until": UNTIL, "columns": "fare"}, headers=served.bearer("steward-bot")).json()
    fares = "SELECT round(sum(fare), 1) AS total FROM trips"
    assert api.post("/sql/run", json={"sql": fares}, headers=served.bearer("transit-bot")).json()["rows"] == [[7.5]]

    async def agent(who: str, work: Any) -> Any:
        http = httpx2.AsyncClient(headers=served.bearer(who), timeout=120)
        async with Client(streamable_http_client(f"{served.url}/mcp", http_client=http)) as client:
            return await work(client)

    async def operator(client: Client) -> Any:
        tools = {t.name for t in (await client.list_tools()).tools}
        refused = await client.call_tool("grant_status", {"id": made["id"], "action": "revoke"})
        return tools, refused

    async def steward(client: Client) -> Any:
        return await client.call_tool("grant_status", {"id": made["id"], "action": "revoke",
                                                       "reason": "study finished"})

    tools, refused = asyncio.run(agent("transit-bot", operator))
    assert {"grants_list", "grant_request", "grant_requests"} <= tools and "grant_status" not in tools
    assert refused.is_error and "may not create, change or revoke grants" in refused.content[0].text
    revoked = asyncio.run(agent("steward-bot", steward))
    assert not revoked.is_error and revoked.structured_content["state"] == "revoked"
    after = api.post("/sql/run", json={"sql": fares}, headers=served.bearer("transit-bot"))
    assert after.status_code == 403 and "not available" in after.json()["error"]
