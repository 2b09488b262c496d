"""Grants over MCP (issue 33's use cases as tools), through the SDK's own client: an operator's agent asks for access,
reads its organisation's grants and queries under them; a steward's agent decides and ends them; bad arguments are
one line naming the argument; receipts say `interface: mcp`. Real approved tables (tests/unit/grant_home.py)."""

import asyncio
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from assistant.mcp.tools import build
from assistant.services import Services
from assistant.usecases.tokens import Caller
from tests.unit.grant_home import OPERATOR, STEWARD, grant_home

UNTIL = (date.today() + timedelta(days=30)).isoformat()
COUNT = "SELECT district, count(*) AS n FROM trips GROUP BY district ORDER BY district"


@pytest.fixture
def svc(tmp_path: Path) -> Services:
    return grant_home(tmp_path)


def call(svc: Services, who: tuple[str, str], tool: str, arguments: dict[str, Any]) -> Any:
    """A tool call as (role, user) over an in-process MCP session: (is_error, the parsed answer or the text)."""
    server = build(svc.for_interface("mcp"), Caller("stdio", who[0], who[1]))

    async def run() -> Any:
        async with Client(server) as client:
            return await client.call_tool(tool, arguments)

    result = asyncio.run(run())
    text = result.content[0].text
    return result.is_error, text if result.is_error else json.loads(text)


OLGA, ANA = (OPERATOR, "olga"), (STEWARD, "steward-ana")


def test_an_operators_agent_asks_a_stewards_agent_narrows_and_the_table_answers(svc: Services) -> None:
    error, asked = call(svc, OLGA, "grant_request", {"dataset": "trips", "purpose": "timetable app", "until": UNTIL,
                                                     "columns": "district,route,fare"})
    assert not error and (asked["id"], asked["status"], asked["user"]) == ("r0001", "pending", "olga")
    error, queue = call(svc, ANA, "grant_requests", {"status": "pending"})
    assert [r["id"] for r in queue["results"]] == ["r0001"]
    error, grant = call(svc, ANA, "grant_decide", {"id": "r0001", "approve": True, "columns": "district,route",
                                                   "rows": "district = 'd1'", "reason": "no fares"})
    assert not error and (grant["id"], grant["columns"]) == ("g0001", ["district", "route"])
    error, mine = call(svc, OLGA, "grants_list", {})
    assert [g["id"] for g in mine["results"]] == ["g0001"] and mine["results"][0]["state"] == "active"
    error, rows = call(svc, OLGA, "sql_run", {"sql": COUNT})
    assert not error and rows["rows"] == [["d1", 3]] and rows["grants"] == ["g0001"]
    receipt = svc.audit.recent(limit=1)[0]
    assert (receipt.action, receipt.user, receipt.interface, receipt.grants) == ("sql.run", "olga", "mcp", ["g0001"])


def test_a_stewards_agent_revokes_and_the_next_query_is_refused(svc: Services) -> None:
    svc.create_grant("transit-co", "trips", purpose="planning", until=UNTIL, columns="district", role=STEWARD)
    assert not call(svc, OLGA, "sql_run", {"sql": "SELECT count(*) AS n FROM trips"})[0]
    error, ended = call(svc, ANA, "grant_status", {"id": "g0001", "action": "revoke", "reason": "licence ended"})
    assert not error and ended["state"] == "revoked"
    error, text = call(svc, OLGA, "sql_run", {"sql": "SELECT count(*) AS n FROM trips"})
    assert error and "no approved tables" in text
    error, text = call(svc, ANA, "grant_status", {"id": "g0001", "action": "resume"})
    assert error and "revoked" in text
    revoked, refused = [r for r in svc.audit.recent(limit=5) if r.action == "grants.manage"][1::-1]
    assert (revoked.interface, revoked.grants, revoked.outcome) == ("mcp", ["g0001"], "revoked: g0001 (licence ended)")
    assert refused.outcome.startswith("refused:")


def test_a_member_may_not_decide_and_bad_arguments_name_the_argument(svc: Services) -> None:
    call(svc, OLGA, "grant_request", {"dataset": "trips", "purpose": "x", "until": UNTIL})
    for tool, arguments in (("grant_decide", {"id": "r0001", "approve": True}),
                            ("grant_status", {"id": "g0001", "action": "revoke"})):
        error, text = call(svc, OLGA, tool, arguments)
        assert error and text == f"role '{OPERATOR}' may not create, change or revoke grants, or decide requests " \
                                 "for access", text
    for arguments, named in (({"until": "next june"}, "until next june: expected a date"),
                             ({"start": "soon"}, "start soon: expected a date"),
                             ({"dataset": "no-such-table"}, "dataset no-such-table: no approved table"),
                             ({"columns": "c" * 600}, "columns: String should have at most 500 characters")):
        error, text = call(svc, OLGA, "grant_request", {"dataset": "trips", "purpose": "x", "until": UNTIL}
                           | arguments)
        assert error and text.startswith(("invalid arguments: " + named, named)) and "\n" not in text, text
    error, text = call(svc, OLGA, "grant_show", {"id": "g0042"})
    assert error and text == "id g0042: no grant has this id"
    assert len(svc.requests(role=STEWARD)) == 1  # none of the bad ones was stored


def test_a_suspended_grant_stops_until_it_is_resumed(svc: Services) -> None:
    svc.create_grant("transit-co", "trips", purpose="planning", until=UNTIL, columns="district", role=STEWARD)
    query = {"sql": "SELECT count(*) AS n FROM trips"}
    error, suspended = call(svc, ANA, "grant_status", {"id": "g0001", "action": "suspend", "reason": "audit"})
    assert not error and suspended["state"] == "suspended"
    assert call(svc, OLGA, "sql_run", query)[0]
    error, resumed = call(svc, ANA, "grant_status", {"id": "g0001", "action": "resume"})
    assert not error and resumed["state"] == "active"
    error, rows = call(svc, OLGA, "sql_run", query)
    assert not error and rows["rows"] == [[6]]  # every row: the grant names no rows


def test_a_decision_names_the_argument_the_agent_sent(svc: Services) -> None:
    later = (date.today() + timedelta(days=10)).isoformat()
    call(svc, OLGA, "grant_request", {"dataset": "trips", "purpose": "x", "until": UNTIL, "start": later})
    shorter = (date.today() + timedelta(days=5)).isoformat()
    for arguments, named in (({"until": shorter}, f"until {shorter}: the term ends before it starts"),
                             ({"start": "soon"}, "start soon: expected a date")):
        error, text = call(svc, ANA, "grant_decide", {"id": "r0001", "approve": True} | arguments)
        assert error and text.startswith(named), text
    error, text = call(svc, ANA, "grant_decide", {"id": "r0001", "approve": False})
    assert error and text.startswith("reason")


def test_every_grant_can_be_reached_page_by_page(svc: Services) -> None:
    for n in range(55):
        svc.create_grant("transit-co", "trips", purpose=f"study {n}", until=UNTIL, role=STEWARD)
    error, first = call(svc, OLGA, "grants_list", {"limit": 50})
    assert not error and (first["total"], first["next"]) == (55, 50)
    error, rest = call(svc, OLGA, "grants_list", {"offset": 50, "limit": 50})
    assert not error and len(rest["results"]) == 5 and rest["next"] is None
