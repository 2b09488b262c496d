"""Issue 32, the knowledge loop on the real stack: the CLI in a subprocess, real DuckDB, the audit log, and the
bundled Qwen GGUF writing the SQL. An analyst proposes, cannot approve it herself, another steward approves, the
next similar question is taught it (and says so), a citizen is never taught an item naming a column denied to
citizens, and a changed table suspends the item whose SQL no longer runs."""

import shutil
from pathlib import Path
from typing import Any

import pytest

from .conftest import FIXTURES, govdata

pytestmark = pytest.mark.e2e
SQL = FIXTURES / "sql"
PAIR = "SELECT kind, count(*) AS permits FROM permits GROUP BY kind ORDER BY kind"


def as_user(home: Path, user: str, *args: str) -> Any:
    return govdata(home, *args, env={"GOVDATA_USER": user})


def test_propose_review_use_and_suspend(tmp_path: Path) -> None:
    home, table = tmp_path / "home", tmp_path / "permits.csv"
    shutil.copy(SQL / "permits.csv", table)
    added = govdata(home, "datasets", "add", str(table), "--describe", str(SQL / "permits.describe.json"), "--json")
    assert added.code == 0, added.stderr

    proposed = as_user(home, "ana", "knowledge", "propose", "--question", "How many permits of each kind were issued?",
                       "--sql", PAIR, "--role", "civil_servant", "--json")
    assert proposed.code == 0, proposed.stderr
    item = proposed.json()["id"]
    assert proposed.json()["status"] == "proposed" and proposed.json()["proposer"] == "ana"

    for role in ("civil_servant", "data_steward"):  # not as an analyst, and not as the proposer in any role
        refused = as_user(home, "ana", "knowledge", "approve", item, "--role", role)
        assert refused.code == 1 and refused.stderr.startswith("error: ") and refused.stderr.count("\n") == 1
    assert "another steward must review it" in refused.stderr
    approved = as_user(home, "sam", "knowledge", "approve", item, "--reason", "checked by hand", "--json")
    assert approved.code == 0 and approved.json()["status"] == "approved", approved.stderr

    phone = as_user(home, "sam", "knowledge", "propose", "--question", "Which phone number has permit 1?",
                    "--sql", "SELECT phone FROM permits WHERE permit_id = 1", "--role", "data_steward", "--json")
    hidden = phone.json()["id"]
    assert as_user(home, "lee", "knowledge", "approve", hidden).code == 0

    asked = as_user(home, "bo", "sql", "ask", "How many permits were issued for each kind?", "--role",
                    "civil_servant", "--json")
    assert asked.code == 0, asked.stderr
    answer = asked.json()
    assert item in answer["knowledge"] and hidden not in answer["knowledge"]  # shown, and only what bo may read
    assert sorted(map(tuple, answer["rows"])) == [("building", 2), ("event", 1), ("street", 2)]

    citizen = as_user(home, "cy", "sql", "ask", "What are the phone numbers of the permits?", "--json")
    assert hidden not in citizen.json()["knowledge"] and "138-0000" not in citizen.stdout

    changed = tmp_path / "changed" / "permits.csv"
    changed.parent.mkdir()
    changed.write_text(table.read_text(encoding="utf-8").replace("Kind", "Category", 1), encoding="utf-8")
    readded = govdata(home, "datasets", "add", str(changed), "--name", "permits", "--describe",
                      str(SQL / "permits.describe.json"), "--json")
    assert readded.code == 0, readded.stderr
    rechecked = {o["id"]: o for o in readded.json()["rechecked"]}
    assert rechecked[item]["status"] == "suspended" and "kind" in rechecked[item]["reason"].lower()
    queue = govdata(home, "knowledge", "list", "--status", "suspended", "--json").json()
    assert [i["id"] for i in queue] == [item] and queue[0]["reason"].startswith("permits changed")
    receipts = govdata(home, "audit", "list", "--role", "data_steward", "--json").json()
    actions = [r["action"] for r in receipts]
    assert {"knowledge.propose", "knowledge.review", "knowledge.recheck"} <= set(actions)
    assert govdata(home, "audit", "verify", "--role", "data_steward").code == 0
