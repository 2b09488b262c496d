"""Issue 32, the knowledge loop: items in one store, maker-checker review (never by the proposer; approval verifies
on the engine), import by line, re-check when a table changes (suspend, flag), expiry, what a role is taught
(never an item naming a column it may not read) and the demand list (counts, never users). Real DuckDB, the
real audit log and guard; the chat model is scripted (the real model is in tests/e2e/test_knowledge_e2e.py)."""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from assistant.services import Services
from assistant.sql.generate import SqlGenerator
from assistant.sql.knowledge import KnowledgeItem, KnowledgeStore
from assistant.sql.lessons import choose, mentioned
from core.errors import GovDataError
from tests.conftest import Home
from tests.unit.scripted_model import ScriptedModel, reply

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sql"
PERMITS = (FIXTURES / "permits.csv", {"access_level": "public", "describe": FIXTURES / "permits.describe.json"})
COUNT = "SELECT kind, count(*) AS n FROM permits GROUP BY kind"


def scripted(svc: Services, replies: int = 3) -> ScriptedModel:
    """The SQL service's generator over a scripted model that always writes COUNT."""
    model = ScriptedModel(replies=[reply(COUNT)] * replies)
    svc.sql._generator = SqlGenerator(model, svc.settings.sql, "none", None)
    return model


@pytest.fixture
def svc(home_builder: Home) -> Services:
    """Permits at the public level: a citizen has the applicant name and phone denied, a civil servant masked."""
    return home_builder.services(tables=(PERMITS,))


def approved_pair(svc: Services, question: str, sql: str) -> KnowledgeItem:
    item = svc.knowledge_propose("pair", question=question, sql=sql, role="civil_servant", user="ana")
    return svc.knowledge_review(item.id, approve=True, role="data_steward", user="sam")


def test_propose_then_only_another_steward_approves_and_each_step_leaves_a_receipt(svc: Services) -> None:
    item = svc.knowledge_propose("pair", question="How many building permits?",
                                 sql="SELECT count(*) FROM permits WHERE kind = 'building'", role="civil_servant",
                                 user="ana")
    assert (item.id, item.status, item.proposer, list(item.tables)) == ("k1", "proposed", "ana", ["permits"])
    with pytest.raises(GovDataError, match="may not review knowledge"):
        svc.knowledge_review("k1", approve=True, role="civil_servant", user="ana")
    with pytest.raises(GovDataError, match="proposed by ana; another steward must review it"):
        svc.knowledge_review("k1", approve=True, role="data_steward", user="ana")  # the same person as a steward
    assert svc.sql.knowledge.get("k1").status == "proposed"
    approved = svc.knowledge_review("k1", approve=True, role="data_steward", user="sam", reason="matches the book")
    assert (approved.status, approved.reviewer, approved.columns) == ("approved", "sam", ("count(*)",))
    assert [h["status"] for h in approved.history] == ["proposed", "approved"]
    receipts = [(r.action, r.user, r.outcome.split(":")[0]) for r in reversed(svc.audit.recent(limit=4))]
    assert receipts == [("knowledge.propose", "ana", "proposed k1"), ("knowledge.review", "ana", "refused"),
                        ("knowledge.review", "ana", "refused"), ("knowledge.review", "sam", "approved")]
    assert svc.audit.verify().ok


def test_a_proposal_must_pass_the_guard_and_run_for_its_proposer(svc: Services) -> None:
    with pytest.raises(GovDataError, match="phone"):  # denied to citizens: never proposed by one
        svc.knowledge_propose("pair", question="Phones?", sql="SELECT phone FROM permits", role="citizen", user="c")
    with pytest.raises(GovDataError, match="only a query"):
        svc.knowledge_propose("pair", question="Drop?", sql="DROP TABLE permits", role="civil_servant", user="ana")
    with pytest.raises(GovDataError, match="a note names the table"):
        svc.knowledge_propose("note", text="dates are text", role="civil_servant", user="ana")
    assert svc.sql.knowledge.items() == [] and svc.audit.recent(limit=1)[0].outcome.startswith("refused")


def test_rejecting_needs_a_reason_and_a_rejected_item_cannot_be_approved(svc: Services) -> None:
    svc.knowledge_propose("note", text="one row per permit", tables=["permits"], role="citizen", user="ana")
    with pytest.raises(GovDataError, match="reason"):
        svc.knowledge_review("k1", approve=False, role="data_steward", user="sam")
    rejected = svc.knowledge_review("k1", approve=False, reason="not true", role="data_steward", user="sam")
    assert (rejected.status, rejected.reason) == ("rejected", "not true")
    with pytest.raises(GovDataError, match="was rejected"):
        svc.knowledge_review("k1", approve=True, role="data_steward", user="sam")


def test_approval_runs_the_sql_again_on_todays_table(svc: Services, tmp_path: Path) -> None:
    svc.knowledge_propose("pair", question="Total fees?", sql="SELECT sum(fee) FROM permits", role="civil_servant",
                          user="ana")
    changed = tmp_path / "permits.csv"
    changed.write_text(PERMITS[0].read_text(encoding="utf-8").replace("Fee", "Amount", 1), encoding="utf-8")
    svc.add_tables(changed, name="permits", role="data_steward", **PERMITS[1])  # type: ignore[arg-type]
    with pytest.raises(GovDataError, match="cannot resolve"):
        svc.knowledge_review("k1", approve=True, role="data_steward", user="sam")
    assert svc.sql.knowledge.get("k1").status == "proposed"


def test_a_changed_table_suspends_what_no_longer_runs_and_flags_a_new_shape(svc: Services, tmp_path: Path) -> None:
    approved_pair(svc, "Total fees?", "SELECT sum(fee) FROM permits")
    approved_pair(svc, "Everything about permits?", "SELECT permit_id, kind, fee FROM permits")
    approved_pair(svc, "Permits per kind?", COUNT)
    approved_pair(svc, "All of it?", "SELECT * FROM permits")
    changed = tmp_path / "permits.csv"
    lines = PERMITS[0].read_text(encoding="utf-8").splitlines()
    changed.write_text("\n".join([lines[0].replace("Fee", "Amount") + ",Office",
                                  *(line + ",A" for line in lines[1:])]) + "\n", encoding="utf-8")
    result = svc.add_tables(changed, name="permits", role="data_steward", user="sam",
                            **PERMITS[1])  # type: ignore[arg-type]
    states = {o["id"]: o["status"] for o in result.rechecked}
    assert states == {"k1": "suspended", "k2": "suspended", "k3": "approved", "k4": "flagged"}
    suspended, flagged = svc.sql.knowledge.get("k1"), svc.sql.knowledge.get("k4")
    assert "permits changed" in suspended.reason and "fee" in suspended.reason.lower()
    assert "office" in flagged.reason and flagged.tables["permits"] == svc.sql.approved.tables()[0].version
    recheck = svc.audit.recent(limit=1)[0]
    assert recheck.action == "knowledge.recheck" and recheck.outcome == "1 approved, 1 flagged, 2 suspended"
    queue = [i.id for i in svc.knowledge_items(role="data_steward", user="sam")]
    assert queue[:3] == ["k2", "k1", "k4"]  # suspended, then flagged, first
    assert svc.knowledge_recheck(role="data_steward", user="sam") == []  # nothing changed since


def test_what_a_role_is_taught_never_names_a_column_it_may_not_read(svc: Services) -> None:
    phone = approved_pair(svc, "Phone of permit 1?", "SELECT phone FROM permits WHERE permit_id = 1")
    star = approved_pair(svc, "Permit 3 in full?", "SELECT * FROM permits WHERE permit_id = 3")
    plain = approved_pair(svc, "Fees by kind?", "SELECT kind, sum(fee) FROM permits GROUP BY kind")
    note = svc.knowledge_propose("note", text="Phone numbers keep their dashes", tables=["permits"],
                                 role="data_steward", user="sam")
    svc.knowledge_review(note.id, approve=True, role="data_steward", user="lee")
    term = svc.knowledge_propose("term", term="named applicant", text="a permit with an applicant name",
                                 sql="applicant_name IS NOT NULL", tables=["permits"], role="data_steward", user="sam")
    svc.knowledge_review(term.id, approve=True, role="data_steward", user="lee")
    hidden = {phone.id, star.id, note.id, term.id}
    for role in ("citizen", "civil_servant"):
        model = scripted(svc)
        answer = svc.sql_ask("How many permits of each kind, by named applicant and phone?", role=role, user="u")
        prompt = "\n".join(str(m.content) for m in model.seen[0])
        assert not hidden & set(answer.knowledge) and plain.id in answer.knowledge
        for text in ("Phone of permit 1", "permit_id = 3", "dashes", "applicant_name IS NOT NULL"):
            assert text not in prompt
        assert "Fees by kind?" in prompt
    model = scripted(svc)
    answer = svc.sql_ask("How many permits of each kind, by named applicant and phone?", role="data_steward")
    assert hidden <= set(answer.knowledge) and "dashes" in str(model.seen[0][-1].content)
    assert svc.audit.recent(limit=1)[0].sources == [f"knowledge:{k}" for k in answer.knowledge]


def test_expired_and_suspended_items_teach_nothing(svc: Services) -> None:
    item = approved_pair(svc, "Fees by kind?", "SELECT kind, sum(fee) FROM permits GROUP BY kind")
    svc.knowledge_review(item.id, approve=True, role="data_steward", user="lee", expires="2020-01-01")
    assert svc.sql.knowledge.get(item.id).state() == "expired"
    assert [i.id for i in svc.knowledge_items(role="data_steward", user="sam", status="expired")] == [item.id]
    scripted(svc)
    assert svc.sql_ask("Fees by kind?", role="citizen").knowledge == []
    with pytest.raises(GovDataError, match="expires"):
        svc.knowledge_review(item.id, approve=True, role="data_steward", user="lee", expires="soon")


def test_sql_learn_is_a_stewards_direct_approval_in_the_same_store(svc: Services) -> None:
    first = svc.learn("Fees by kind?", "SELECT kind, sum(fee) FROM permits GROUP BY kind", role="data_steward")
    second = svc.learn("fees by kind", "SELECT kind, avg(fee) FROM permits GROUP BY kind", role="data_steward")
    assert (first.status, first.proposer, first.reviewer) == ("approved", "tester", "tester")
    assert svc.sql.knowledge.get(first.id).reason == f"replaced by {second.id}"  # one pair per question
    assert [i.id for i in svc.sql.knowledge.items() if i.in_use()] == [second.id]


def test_examples_of_earlier_versions_become_approved_pairs(tmp_path: Path) -> None:
    root = tmp_path / "sql"
    root.mkdir()
    (root / "examples.jsonl").write_text(json.dumps({"question": "q?", "sql": "SELECT 1", "tables": ["t"],
                                                     "added_at": "2026-01-02T00:00:00+00:00"}) + "\n")
    store = KnowledgeStore(root)
    [item] = store.items()
    assert (item.id, item.kind, item.status, item.tables) == ("k1", "pair", "approved", {"t": ""})
    with store.changing():
        pass
    assert json.loads((root / "knowledge.json").read_text())["items"][0]["question"] == "q?"
    (root / "knowledge.json").write_text("{broken")
    with pytest.raises(GovDataError, match="damaged"):
        store.items()


IMPORT_LINES = [
    '{"question": "How many permits?", "sql": "SELECT count(*) FROM permits"}',
    "{not json",
    '{"question": "Drop them", "sql": "DROP TABLE permits"}',
    '{"question": "From elsewhere", "sql": "SELECT * FROM licences"}',
    "",
    '{"question": "Fees by kind?", "sql": "SELECT kind, sum(fee) FROM permits GROUP BY kind", "note": "CNY"}',
    '{"question": "No SQL"}',
    '["a list"]',
]


def test_import_refuses_each_bad_line_with_its_reason_and_the_good_lines_land(svc: Services, tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(IMPORT_LINES) + "\n", encoding="utf-8")
    with pytest.raises(GovDataError, match="may not review"):
        svc.knowledge_import(path, role="civil_servant")
    report = svc.knowledge_import(path, role="data_steward", user="sam")
    assert report.imported == 2 and report.ids == ["k1", "k2"]
    reasons = {r["line"]: r["reason"] for r in report.refused}
    assert sorted(reasons) == [2, 3, 4, 7, 8]
    assert reasons[2].startswith("not JSON") and "only a query" in reasons[3] and "licences" in reasons[4]
    assert reasons[7] == "sql: missing or not a text" and reasons[8].startswith("expected an object")
    landed = svc.sql.knowledge.items()
    assert [(i.status, i.text) for i in landed] == [("approved", ""), ("approved", "CNY")]
    assert landed[0].history[-1]["reason"] == "imported from pairs.jsonl:1"
    assert svc.audit.recent(limit=1)[0].outcome == "imported 2, refused 5"


def test_cli_import_prints_json_and_exits_1_when_a_line_is_refused(svc: Services, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.cli import app

    monkeypatch.setenv("GOVDATA_HOME", str(svc.settings.home))
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(IMPORT_LINES[:3]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["knowledge", "import", str(path), "--role", "data_steward", "--json"])
    assert result.exit_code == 1
    printed = json.loads(result.stdout)
    assert printed["imported"] == 1 and [r["line"] for r in printed["refused"]] == [2, 3]
    assert f"{path}:2: not JSON" in result.stderr
    path.write_text(IMPORT_LINES[5] + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["knowledge", "import", str(path), "--role", "data_steward", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == {"imported": 1, "refused": [], "ids": ["k2"]}


def test_pairs_imported_for_an_adhoc_database_teach_only_that_database(svc: Services, tmp_path: Path) -> None:
    pets = FIXTURES / "pets_1.sqlite"
    path = tmp_path / "pets.jsonl"
    path.write_text('{"question": "How many pets?", "sql": "SELECT count(*) FROM pets"}\n', encoding="utf-8")
    report = svc.knowledge_import(path, db=pets, role="data_steward")
    assert report.imported == 1 and svc.sql.knowledge.get("k1").db == svc.sql.scope(pets) != ""
    model = ScriptedModel(replies=[reply("SELECT count(*) FROM pets"), reply(COUNT)])
    svc.sql._generator = SqlGenerator(model, svc.settings.sql, "none", None)
    assert svc.sql_ask("How many pets are there?", role="citizen", db=pets).knowledge == ["k1"]
    assert svc.sql_ask("How many pets are there?", role="citizen").knowledge == []  # the approved tables


def test_the_budget_bounds_what_is_taught() -> None:
    pairs = [KnowledgeItem(f"k{n}", "pair", question=f"question {n}", sql="SELECT " + "x, " * 40 + "y FROM t",
                           tables={"t": "v"}) for n in range(5)]
    relevance = lambda q, docs: np.arange(len(docs), dtype=np.float32)  # noqa: E731
    assert choose("q", pairs, {"t"}, {"t"}, relevance, None, 3, 0).ids == []
    assert choose("q", pairs, {"t"}, {"t"}, relevance, None, 3, 45).ids == ["k4"]
    assert choose("q", pairs, {"t"}, {"t"}, relevance, None, 3, 2000).ids == ["k4", "k3", "k2"]
    assert choose("q", pairs, {"other"}, {"other"}, relevance, None, 3, 2000).ids == []  # tables not visible


def test_terms_are_found_by_their_words_and_across_languages() -> None:
    terms = [KnowledgeItem("k1", "term", term="户籍人口", text="registered population"),
             KnowledgeItem("k2", "term", term="active licence", text="status A and not expired"),
             KnowledgeItem("k3", "term", term="常住人口", text="resident population, living here six months")]
    assert [t.id for t in mentioned("How many ACTIVE LICENCES are there?", terms, None)] == ["k2"]
    assert [t.id for t in mentioned("registered population by district", terms, None)] == ["k1"]

    def embed(texts: list[str]) -> Any:  # two texts meaning the same share a vector; everything else is apart
        meaning = {"户籍人口": 0, "household register": 0, "常住人口": 1, "residents": 1}
        rows = np.eye(len(texts) + 2, dtype=np.float32)[[meaning.get(t, n + 2) for n, t in enumerate(texts)]]
        return rows
    assert [t.id for t in mentioned("people on the household register in 2020", terms, embed)] == ["k1"]


def test_demand_counts_failed_and_unavailable_questions_and_never_names_who_asked(svc: Services) -> None:
    from assistant.audit import Receipt

    for user, question, outcome in [("ana", "Salaries of inspectors?", "error: not available to your role: ..."),
                                    ("bo", "salaries of inspectors", "error: not available to your role: ..."),
                                    ("cy", "Fees in 1990 for 13800000001?", "error: no query ran: ..."),
                                    ("dee", "Fees by kind?", "ok")]:
        svc.record(Receipt("sql.ask", user, "citizen", question=question, outcome=outcome))
    with pytest.raises(GovDataError, match="may not review"):
        svc.knowledge_demand(role="citizen", user="ana")
    found = svc.knowledge_demand(role="data_steward", user="sam")
    assert [(d["count"], d["kind"]) for d in found] == [(2, "not available"), (1, "failed")]
    assert found[0]["question"] == "salaries of inspectors"  # as last asked
    assert "13800000001" not in found[1]["question"]  # personal data in the words is masked
    assert not any(name in json.dumps(found) for name in ("ana", "bo", "cy", "dee"))


def test_the_pages_propose_review_and_show_the_knowledge_used(svc: Services) -> None:
    """The web handlers (no browser): "This SQL is right" in the workbench and the Ask tab, the steward's queue with
    Approve, and the line under the next answer."""
    from assistant.ui import ask as ask_tab
    from assistant.ui import knowledge as knowledge_tab
    from assistant.ui import workbench
    from assistant.ui.common import Caller
    from assistant.ui.text import text

    analyst, steward = Caller("ana", "civil_servant"), Caller("sam", "data_steward")
    assert knowledge_tab.propose(svc, analyst, "", COUNT, "en") == text("knowledge_need_both", "en")
    assert knowledge_tab.propose(svc, analyst, "Permits per kind?", COUNT, "en") == text(
        "knowledge_proposed", "en", id="k1")
    assert knowledge_tab.queue(svc, analyst, "", "en")[1] == text("knowledge_only", "en")
    table, line = knowledge_tab.queue(svc, steward, "proposed", "en")
    assert list(table["id"]) == ["k1"] and line == text("knowledge_count", "en", n=1, waiting=1)
    _, refused = knowledge_tab.decide(svc, analyst, "k1", "", "", True, "en")
    assert refused == text("knowledge_only", "en")
    table, line = knowledge_tab.decide(svc, steward, "k1", "right", "", True, "en")
    assert line.startswith("Approved k1") and list(table["status"]) == ["approved"]
    scripted(svc, 6)
    sql, verdict, explanation, *_ = workbench.generate(svc, analyst, "How many permits of each kind?", "", "en")
    assert f"{text('knowledge_used', 'en')}: k1" in explanation
    turns: list[list[Any]] = []
    reply_text = list(ask_tab.ask(svc, analyst, "Permits by kind?", [], "sql", "en", turns))[-1][0][-1]["content"]
    assert f"{text('knowledge_used', 'en')}: k1" in reply_text
    assert ask_tab.propose_last(svc, analyst, [], "en") == text("knowledge_no_sql", "en")
    assert ask_tab.propose_last(svc, analyst, turns, "en") == text("knowledge_proposed", "en", id="k2")
    assert svc.sql.knowledge.get("k2").question == "Permits by kind?"
    demand, line = knowledge_tab.demand(svc, steward, "en")
    assert line == text("demand_count", "en", n=len(demand))


def test_a_reviewer_role_with_less_access_does_not_see_items_beyond_it(home_builder: Home, tmp_path: Path) -> None:
    roles = tmp_path / "roles.json"
    roles.write_text(json.dumps({
        "data_steward": {"access_levels": ["public", "restricted public", "non-public"], "sensitive_columns": "allow",
                         "pii": "raw"},
        "public_reviewer": {"access_levels": ["public"], "sensitive_columns": "deny",
                            "actions": ["knowledge.review"]}}))
    svc = home_builder.services(tables=((FIXTURES / "permits.csv", {"access_level": "non-public"}),),
                                roles_file=roles)
    item = svc.knowledge_propose("pair", question="Fees?", sql="SELECT sum(fee) FROM permits", role="data_steward",
                                 user="sam")
    assert [i.id for i in svc.knowledge_items(role="data_steward", user="lee")] == [item.id]
    assert svc.knowledge_items(role="public_reviewer", user="pat") == []
    with pytest.raises(GovDataError, match="no knowledge item"):
        svc.knowledge_item(item.id, role="public_reviewer", user="pat")


def test_a_fallback_answer_names_no_knowledge_and_its_receipt_says_the_plain_prompt_wrote_it(svc: Services) -> None:
    """Issue 27: the plain prompt shows no taught knowledge, so an answer it wrote claims none; the receipt's sources
    say which prompt wrote the SQL that ran."""
    approved_pair(svc, "Fees by kind?", "SELECT kind, sum(fee) AS fees FROM permits GROUP BY kind")
    model = ScriptedModel(replies=[reply("SELECT nope FROM permits")] * 3 + [f"```sql\n{COUNT}\n```",
                                                                             '{"explanation": "Counts by kind."}'])
    svc.sql._generator = SqlGenerator(model, svc.settings.sql, "none", None)
    answer = svc.sql_ask("Fees by kind?", role="civil_servant", user="u")
    assert answer.fallback and answer.error is None and answer.knowledge == []
    taught = "SELECT kind, sum(fee) AS fees FROM permits GROUP BY kind"
    assert taught in str(model.seen[0][-1].content)  # the first prompt was taught the pair
    assert taught not in str(model.seen[3][-1].content)  # the plain prompt was not
    assert svc.audit.recent(limit=1)[0].sources == ["prompt:plain"] and svc.audit.verify().ok
