"""Each web tab's handlers, called as Gradio calls them but without a browser: the caller and plain values in,
what the page shows out. Services is real (DuckDB, the audit log); retrieval and generation are scripted as in
test_use_cases. The browser tests in tests/e2e drive the same handlers through the page."""

from typing import Any

from assistant.services import Services
from assistant.ui import ask as ask_tab
from assistant.ui import audit as audit_tab
from assistant.ui import datasets as datasets_tab
from assistant.ui import register as register_tab
from assistant.ui import session, workbench
from assistant.ui.common import Caller
from assistant.ui.text import text
from tests.unit.test_use_cases import services  # noqa: F401  (the fixture)

CITIZEN, STEWARD = Caller("ana", "citizen"), Caller("sam", "data_steward")


def last_receipt(svc: Services) -> Any:
    return svc.audit.recent(limit=1)[0]


def test_page_load_follows_the_browser_language_and_the_role(services: Services) -> None:  # noqa: F811
    lang, radio, role, tables, levels, audit, register, knowledge, *tools = session.who(services, CITIZEN,
                                                                                        "zh-CN,zh;q=0.9")
    assert (lang, radio, role) == ("zh", "zh", "citizen") and audit["visible"] is False
    assert register["visible"] is False and knowledge["visible"] is False
    assert [t["visible"] for t in tools] == [False, False, False, False]
    assert tables["choices"] == [(text("all", "zh"), ""), "permits"]
    assert levels["choices"] == [(text("any", "zh"), ""), "public"]
    assert [u["visible"] for u in session.who(services, STEWARD, "en-US")[-7:]] == [True] * 7
    assert session.whoami(Caller("<b>x</b>", "citizen"), "en", "citizen").startswith("Signed in as **&lt;b&gt;")


def test_ask_streams_the_routed_reply_and_keeps_the_turn(services: Services) -> None:  # noqa: F811
    turns: list[list[str]] = []
    shown = list(ask_tab.ask(services, CITIZEN, "how many permits?", [], "sql", "en", turns))
    assert [m["role"] for m in shown[-1][0]] == ["user", "assistant"]
    reply = shown[-1][0][-1]["content"]
    assert reply.startswith(f"Route: **{text('route_sql', 'en')}** ({text('route_chosen', 'en')})")
    assert "SELECT 1" in reply and shown[-1][1] == ""
    assert turns == [["how many permits?", "one", "sql", last_receipt(services).id, [], "SELECT 1"]]
    assert ask_tab.reading_choices(turns, "en") == []  # the candidates did not disagree: nothing to pick
    assert (last_receipt(services).action, last_receipt(services).user) == ("sql.ask", "ana")
    found = list(ask_tab.ask(services, CITIZEN, "permits data", [], "datasets", "en", turns))[-1][0][-1]["content"]
    assert "T" in found and turns[-1][2] == "datasets"
    assert list(ask_tab.ask(services, CITIZEN, "  ", [{"role": "user", "content": "x"}], "auto", "en", turns)) == [
        ([{"role": "user", "content": "x"}], "", turns)]


def test_ask_shows_a_refusal_as_an_error_line(services: Services) -> None:  # noqa: F811
    shown = list(ask_tab.ask(services, Caller("eve", "no_such_role"), "q", [], "docs", "en", []))
    assert shown[-1][0][-1]["content"].startswith(f"{text('error', 'en')}: unknown role")


def test_find_shows_cards_and_names_a_bad_field_by_its_label(services: Services) -> None:  # noqa: F811
    cards, pick, open_button = datasets_tab.find(services, CITIZEN, "permits", "", "", "", "", "en")
    assert "T" in cards and open_button["visible"] is False
    error, _, _ = datasets_tab.find(services, CITIZEN, "permits", "", "", "soon", "", "en")
    assert error.startswith(f"{text('error', 'en')}: {text('since', 'en')} &#x27;soon&#x27;: expected")
    assert "--since" not in error


def test_workbench_runs_checks_refuses_and_pages(services: Services) -> None:  # noqa: F811
    note, state, page, label, kind, *_rest, csv = workbench.run(services, STEWARD, "SELECT kind FROM permits", "en")
    assert note.startswith("5 row(s)\n\n<details class=\"receipt\">") and len(state["rows"]) == 5
    assert label == "Rows 1–5 of 5" and csv.endswith(".csv")
    assert last_receipt(services).action == "sql.run" and last_receipt(services).user == "sam"
    refused = workbench.run(services, CITIZEN, "DROP TABLE permits", "en")
    assert refused[0].startswith("rejected: ") and refused[1] is None
    assert workbench.check(services, CITIZEN, "SELECT 1 AS one FROM permits", "en").startswith("allowed")
    assert workbench.turn_page(state, 1, "en")[2] == "Rows 1–5 of 5"  # one page: turning stays on it
    sql, verdict, explanation, *_ = workbench.generate(services, CITIZEN, "one?", "", "en")
    assert (sql, verdict) == ("SELECT 1", "allowed and run: 0 row(s)") and "one" in explanation


def test_audit_tab_reads_for_stewards_and_says_no_to_others(services: Services) -> None:  # noqa: F811
    table, status = audit_tab.receipts(services, STEWARD, "", "", "en")
    assert status == "" and list(table["action"]) == ["datasets.add"]
    assert audit_tab.receipts(services, CITIZEN, "", "", "en") == (None, text("audit_only", "en"))
    assert last_receipt(services).outcome.startswith("refused: role 'citizen'")  # the refusal is on the log
    assert audit_tab.verify_chain(services, STEWARD, "zh").startswith("哈希链完整：共 2 条记录")
    assert audit_tab.verify_chain(services, CITIZEN, "en") == text("audit_only", "en")


def test_register_tab_lists_grades_and_discloses_for_stewards_and_says_no_to_others(
        services: Services) -> None:  # noqa: F811
    table, status = register_tab.entries(services, STEWARD, "", "", None, False, "en")
    assert "permits" in list(table["id"]) and status.startswith(f"{len(table)} resources")
    low, _ = register_tab.entries(services, STEWARD, "", "", 0, False, "en")
    assert low is not None and len(low) == 0  # nothing scores 0
    suggestions, status = register_tab.suggestions(services, STEWARD, "permits", "en")
    assert status == f"{len(suggestions)} suggestion(s)"
    assert register_tab.suggestions(services, STEWARD, " ", "en")[1].startswith("error: Table or record id")
    missing = register_tab.decide(services, STEWARD, "permits", "g0", True, "en")
    assert missing[0] is None and "no suggestion with this id" in missing[1]
    path, status = register_tab.disclosure(services, STEWARD, "en")
    assert path is not None and open(path, encoding="utf-8").read().startswith("<!doctype html>")
    for call in (lambda: register_tab.entries(services, CITIZEN, "", "", None, False, "en"),
                 lambda: register_tab.suggestions(services, CITIZEN, "permits", "en"),
                 lambda: register_tab.decide(services, CITIZEN, "permits", "g0", True, "en"),
                 lambda: register_tab.disclosure(services, CITIZEN, "en")):
        shown, message = call()
        assert shown is None and message == text("register_only", "en")
        assert last_receipt(services).outcome.startswith("refused: ")


def test_every_answer_and_result_carries_its_own_compact_receipt(services: Services) -> None:  # noqa: F811
    """Issue 17: the receipt beside the answer: id, time, data versions, SQL, rows, a line to copy as a citation;
    stewards get the commands that replay and verify it; nobody sees someone else's receipt."""
    reply = list(ask_tab.ask(services, CITIZEN, "how many permits?", [], "sql", "en", []))[-1][0][-1]["content"]
    receipt = last_receipt(services)
    assert f"<summary>Receipt #{receipt.id}</summary>" in reply and reply.count("SELECT 1") == 2  # answer, receipt
    assert f"GovData Assistant, receipt #{receipt.id}, {receipt.time[:19]}Z, sha256 {receipt.hash[:16]}" in reply
    assert "audit replay" not in reply  # the command is for stewards
    shown = workbench.run(services, STEWARD, "SELECT count(*) AS n FROM permits", "en")[0]
    steward_receipt = last_receipt(services)
    assert f"Receipt #{steward_receipt.id}" in shown and f"govdata audit replay {steward_receipt.id}" in shown
    assert "SELECT" in shown and "permits@" in shown  # the SQL that ran, at its data version
    import pytest

    from core.errors import GovDataError

    with pytest.raises(GovDataError, match=f"receipt {steward_receipt.id} is not one of yours"):
        services.own_receipt(steward_receipt.id, role="citizen", user="ana")
    assert services.own_receipt(receipt.id, role="citizen", user="ana").id == receipt.id
    assert services.own_receipt(receipt.id, role="data_steward", user="sam").id == receipt.id


def test_stewards_replay_and_verify_the_receipt_beside_a_result(services: Services) -> None:  # noqa: F811
    """Issue 17: Replay and Verify act on the receipt of the result or reply they sit under."""
    outputs = workbench.run(services, STEWARD, "SELECT count(*) AS n FROM permits", "en")
    receipt_id = workbench.last_receipt(outputs[1])
    assert receipt_id == last_receipt(services).id
    replayed = audit_tab.replay(services, STEWARD, receipt_id, "en")
    assert replayed.startswith(f"Replay of #{receipt_id}: same rows (1)") and last_receipt(services).action == \
        "sql.replay"
    checked = audit_tab.verify_receipt(services, STEWARD, receipt_id, "zh")
    assert checked.startswith(f"凭证 #{receipt_id}（sha256 {services.audit.get(receipt_id).hash[:16]}")
    turns: list[list[Any]] = []
    list(ask_tab.ask(services, STEWARD, "how many permits?", [], "sql", "en", turns))
    assert ask_tab.last_receipt(turns) == turns[-1][3] and turns[-1][3] is not None
    assert audit_tab.replay(services, STEWARD, None, "en") == text("receipt_none", "en")
    assert audit_tab.verify_receipt(services, STEWARD, 10_000, "en").startswith("error: ")
    assert audit_tab.replay(services, CITIZEN, receipt_id, "en") == text("audit_only", "en")
    assert audit_tab.verify_receipt(services, CITIZEN, receipt_id, "en") == text("audit_only", "en")
    assert last_receipt(services).outcome.startswith("refused: ")


def test_a_tampered_log_is_reported_by_verify_receipt(services: Services) -> None:  # noqa: F811
    workbench.run(services, STEWARD, "SELECT count(*) AS n FROM permits", "en")
    receipt = last_receipt(services)
    from tests.unit.test_audit import _tamper

    _tamper(services.audit, ("UPDATE receipts SET body = replace(body, 'permits', 'parcels') WHERE id = ?",
                             (receipt.id,)))
    assert audit_tab.verify_receipt(services, STEWARD, receipt.id, "en").startswith("Tampered: first bad entry")


def test_disagreeing_candidates_become_a_clarifying_question_with_readings_to_pick(
        services: Services, monkeypatch: Any) -> None:  # noqa: F811
    """Issue 12: instead of one confident table, the Ask tab asks which reading was meant; a picked reading
    runs as the user (guarded again, its own receipt) and its result joins the conversation."""
    from assistant.sql.generate import SqlAnswer

    class Doubtful:
        def ask(self, question: str, context: Any, examples: Any = ()) -> SqlAnswer:
            return SqlAnswer(question, "SELECT 1 AS n", "Counts one thing.", columns=["n"], rows=[[1]], row_count=1,
                             candidates=5, confidence=0.4, uncertain=True,
                             alternatives=[{"sql": "SELECT count(*) AS n FROM permits", "row_count": 1, "votes": 2,
                                            "explanation": "Counts every permit."}])

    monkeypatch.setattr(type(services.sql), "generator", property(lambda self: Doubtful()))
    turns: list[list[Any]] = []
    history = list(ask_tab.ask(services, CITIZEN, "how many?", [], "sql", "en", turns))[-1][0]
    reply = history[-1]["content"]
    assert "can be read in more than one way" in reply and "only 40%" in reply
    assert "1. Counts one thing. — shown below, 1 row(s)" in reply and "2. Counts every permit. — 1 row(s)" in reply
    assert ask_tab.reading_choices(turns, "en") == [("Reading 2: Counts every permit.", 2)]
    shown = ask_tab.show_reading(services, CITIZEN, turns, 2, history, "en")
    assert len(shown) == len(history) + 1 and shown[-1]["content"].startswith("**Reading 2: Counts every permit.**")
    assert "SELECT COUNT(*) AS n FROM permits" in shown[-1]["content"] and "Receipt #" in shown[-1]["content"]
    assert (last_receipt(services).action, last_receipt(services).user) == ("sql.run", "ana")
    assert ask_tab.show_reading(services, CITIZEN, turns, 7, history, "en") == history  # not a reading: nothing
    assert ask_tab.show_reading(services, CITIZEN, turns, None, history, "en") == history
    zh = list(ask_tab.ask(services, CITIZEN, "多少？", [], "sql", "zh", turns))[-1][0][-1]["content"]
    assert "您的问题可以有不止一种理解" in zh
