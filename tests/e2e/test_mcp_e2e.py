"""MCP end to end (issue 31) with the SDK's own client: over stdio (`govdata mcp --role citizen` as a subprocess) and
over streamable HTTP against a real `govdata serve` on 127.0.0.1. A citizen finds datasets and never a restricted
one, gets `sql_run` refused with the guard's reason and personal data masked; a steward token sees everything; a
revoked token is refused; 200 tool calls from 20 clients leave exactly 200 receipts and `audit verify` passes."""

import asyncio
import json
import os
import subprocess
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from .conftest import GOVDATA, ApiServer

pytestmark = pytest.mark.e2e
TOOLS = {"search_datasets", "get_dataset", "search_documents", "ask", "list_tables", "sql_check", "sql_run",
         "sql_ask", "catalog_overview", "grants_list", "grant_show", "grant_request", "grant_requests"}
MASKED_SQL = {"sql": "SELECT holder FROM applicants ORDER BY case_no LIMIT 1"}


def over_http(server: ApiServer, who: str) -> Client:
    http = httpx2.AsyncClient(headers=server.bearer(who), timeout=120)
    return Client(streamable_http_client(f"{server.url}/mcp", http_client=http))


def over_stdio(server: ApiServer, role: str) -> Client:
    env = {**os.environ, "GOVDATA_HOME": str(server.home), "OMP_WAIT_POLICY": "PASSIVE", "GOVDATA_USER": "desk-agent"}
    return Client(StdioServerParameters(command=GOVDATA[0], args=[*GOVDATA[1:], "mcp", "--role", role], env=env))


def session(client: Client, work: Callable[[Client], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        async with client:
            return await work(client)

    return asyncio.run(run())


async def citizen_scenario(client: Client) -> dict[str, Any]:
    tools = {t.name for t in (await client.list_tools()).tools}
    found = [(await client.call_tool("search_datasets", {"query": words, "k": 50})).structured_content
             for words in ("Motor Vehicle Fleet data", "MDM OS Compliance Tracker")]
    refused = await client.call_tool("sql_run", {"sql": "SELECT * FROM audit_receipts"})
    masked = await client.call_tool("sql_run", MASKED_SQL)
    hidden = await client.call_tool("get_dataset", {"id": "OASAM BOC-25-012:044-217"})
    bad = await client.call_tool("search_datasets", {"query": "x", "k": 10**6})
    return {"tools": tools, "found": found, "refused": refused, "masked": masked, "hidden": hidden, "bad": bad}


def check_citizen(seen: dict[str, Any]) -> None:
    assert seen["tools"] == TOOLS | {"knowledge_propose"}  # no steward tools
    for page in seen["found"]:
        assert page["results"] and {r["access_level"] for r in page["results"]} == {"public"}
    assert seen["refused"].is_error
    assert seen["refused"].content[0].text == ("rejected: table 'audit_receipts' is not an approved table for "
                                               "this role")
    assert seen["masked"].structured_content["rows"] == [["[ID ***5927]"]]
    assert seen["hidden"].is_error and "no dataset has this id" in seen["hidden"].content[0].text
    assert seen["bad"].is_error and "k: Input should be less than or equal to 50" in seen["bad"].content[0].text


def test_stdio_as_a_citizen(api_server: ApiServer) -> None:
    from assistant.services import Services
    from core.settings import Settings

    log = Services(Settings(home=api_server.home)).audit
    before = log.verify().entries
    check_citizen(session(over_stdio(api_server, "citizen"), citizen_scenario))
    receipts = log.recent(limit=5)
    assert log.verify().entries == before + 5  # five tool calls reached a use case; the schema refused one
    assert {(r.interface, r.user, r.role) for r in receipts} == {("mcp", "desk-agent", "citizen")}


def test_stdio_refuses_an_unknown_role_in_one_line(api_server: ApiServer) -> None:
    env = {**os.environ, "GOVDATA_HOME": str(api_server.home)}
    done = subprocess.run([*GOVDATA, "mcp", "--role", "king"], capture_output=True, text=True, env=env, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 1 and done.stderr.strip().startswith("error: unknown role 'king'")
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_http_with_a_citizen_token(api_server: ApiServer) -> None:
    check_citizen(session(over_http(api_server, "citizen"), citizen_scenario))


def test_http_with_a_steward_token_sees_everything(api_server: ApiServer) -> None:
    async def work(client: Client) -> list[Any]:
        tools = {t.name for t in (await client.list_tools()).tools}
        found = await client.call_tool("search_datasets", {"query": "MDM OS Compliance Tracker", "k": 3})
        raw = await client.call_tool("sql_run", MASKED_SQL)
        record = await client.read_resource("govdata://datasets/OASAM BOC-25-012:044-217")
        register = await client.call_tool("register_list", {"limit": 2})
        queue = await client.call_tool("knowledge_list", {"limit": 5})
        return [tools, found.structured_content, raw.structured_content, json.loads(record.contents[0].text),
                register.structured_content, queue.structured_content]

    tools, found, raw, record, register, queue = session(over_http(api_server, "data_steward"), work)
    assert tools == TOOLS | {"register_list", "knowledge_propose", "knowledge_list", "knowledge_review",
                             "grant_decide", "grant_status"}
    assert {"results", "total", "next"} <= set(queue)  # the knowledge queue, over HTTP with the steward's token
    assert all(item["status"] in ("proposed", "approved") for item in queue["results"])  # (the API suite's proposal)
    assert found["results"][0]["identifier"] == "OASAM OCIO-25-012:044-252" and found["total"] == 42
    assert raw["rows"] == [["110105198003245927"]]
    assert record["access_level"] == "restricted public"
    assert len(register["results"]) == 2 and register["total"] == 44 and register["next"] == 2


def test_http_refuses_a_revoked_token_with_the_reason(api_server: ApiServer) -> None:
    with pytest.raises(ExceptionGroup) as failed:  # the SDK's client gives up on the 401; the reason is below
        session(over_http(api_server, "revoked"), lambda client: client.list_tools())
    assert failed.group_contains(MCPError, match="error response", depth=None)
    answer = httpx.post(f"{api_server.url}/mcp", headers=api_server.bearer("revoked") | {
        "accept": "application/json, text/event-stream"}, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert answer.status_code == 401 and "token 'old' revoked on" in answer.json()["error"]


def test_200_tool_calls_from_20_clients_leave_200_receipts_and_a_sound_chain(api_server: ApiServer) -> None:
    from assistant.services import Services
    from core.settings import Settings

    log = Services(Settings(home=api_server.home)).audit
    before = log.verify().entries

    async def one_client(n: int) -> list[bool]:
        async with over_http(api_server, f"client{n}") as client:
            calls = [client.call_tool("search_datasets", {"query": f"wage data {i}", "k": 3}) if i % 2 else
                     client.call_tool("sql_run", {"sql": f"SELECT kind, count(*) FROM permits WHERE permit_id > {i} "
                                                         "GROUP BY kind"}) for i in range(10)]
            return [not (await call).is_error for call in calls]

    async def everyone() -> list[list[bool]]:
        return list(await asyncio.gather(*(one_client(n) for n in range(20))))

    results = asyncio.run(everyone())
    assert sum(map(sum, results)) == 200
    done = subprocess.run([*GOVDATA, "audit", "verify", "--json"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "GOVDATA_HOME": str(api_server.home)})
    verified = json.loads(done.stdout)
    assert done.returncode == 0 and verified["ok"] and verified["entries"] == before + 200
    receipts = log.recent(limit=200)
    assert {r.interface for r in receipts} == {"mcp"} and len({r.user for r in receipts}) == 20
    assert sorted(r.action for r in receipts) == ["datasets.search"] * 100 + ["sql.run"] * 100
