"""Issue 18: what an attacker with a citizen or civil-servant account tried, route by route, through Services.

The table flags name, ssn and address sensitive, and holds personal data in unflagged columns the way real
tables do: phones as BIGINT, e-mails as text, ID numbers in lists, maps, structs and BLOBs.
"""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from assistant.models import Answer, Citation
from assistant.services import Services
from core.errors import GovDataError
from core.settings import Settings
from vectorstore.retriever import Ranked
from vectorstore.store import Hit

PHONE, EMAIL, RESIDENT_ID, SSN = 13800138000, "alice@example.com", "11010519491231002X", "123-45-6789"
RAW = ("13800138000", "alice@example", "11010519491231002X", "123-45-6789", "0138000")


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("GOVDATA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GOVDATA_USER", "mallory")
    source = tmp_path / "people.parquet"
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT * FROM (VALUES
        (1, 'Alice Wang', '{SSN}', '1 Main St', {PHONE}, '{EMAIL}', ['{RESIDENT_ID}'], MAP {{'id': '{RESIDENT_ID}'}},
         {{'mobile': {PHONE}}}, '{EMAIL}'::BLOB, 'Beijing', 'note'),
        (2, 'Bob Li', '078-05-1121', '2 Side St', 13900139000, 'bob@example.org', ['x'], MAP {{'id': 'y'}},
         {{'mobile': 1}}, 'plain'::BLOB, 'Shanghai', 'call 13900139000')
        ) AS t(id, name, ssn, address, phone, email, ids, attrs, contact, doc, city, note))
        TO '{source}' (FORMAT parquet)""")
    describe = tmp_path / "people.describe.json"
    describe.write_text(json.dumps({"title": "People", "columns": {
        "name": {"sensitive": True}, "ssn": {"sensitive": True}, "address": {"sensitive": True}}}))
    svc = Services(Settings())
    svc.sql.approved.add(source, access_level="public", describe=describe)
    return svc


def assert_no_raw(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False, default=str)
    for raw in RAW:
        assert raw not in text, f"{raw} leaked in {text[:300]}"


def _shown(result: Any) -> dict[str, Any]:
    return result.as_dict() if hasattr(result, "as_dict") else vars(result)


# ---- item 4: personal data in every value type, and every text that leaves Services ----

def test_sql_results_mask_every_value_type(services: Services) -> None:
    result = services.sql_run("SELECT id, phone, email, ids, attrs, contact, doc, note, email || 'a' AS glued, "
                              "phone::VARCHAR || 'x' AS glued_phone FROM people ORDER BY id", role="citizen")
    assert_no_raw(_shown(result))
    assert result.rows[0][1] == "[PHONE ***8000]" and result.rows[0][6] == "[BLOB with personal data withheld]"
    assert result.rows[1][6] == "base64:cGxhaW4="  # a BLOB without personal data passes
    steward = services.sql_run("SELECT phone FROM people ORDER BY id", role="data_steward")
    assert steward.rows[0] == [PHONE]


def test_engine_errors_reach_citizens_masked(services: Services) -> None:
    with pytest.raises(GovDataError) as failed:
        services.sql_run("SELECT CAST(email AS INTEGER) FROM people", role="citizen")
    assert_no_raw(str(failed.value))
    with pytest.raises(GovDataError, match="error"):
        services.sql_run("SELECT error(string_agg(email, ',')) FROM people", role="citizen")
    with pytest.raises(GovDataError) as rejected:  # the guard's quote hint echoes the caller's own text
        services.sql_run('SELECT id FROM people WHERE email = "alice@example.com"', role="citizen")
    assert "alice@example" not in str(rejected.value) and "alice@example" not in rejected.value.reason  # type: ignore


def test_table_listing_masks_samples(services: Services) -> None:
    context = services.sql_tables("citizen")
    assert_no_raw([[c.samples for c in t.columns] for t in context.tables])
    assert any(c.samples for t in context.tables for c in t.columns)
    raw = services.sql_tables("data_steward")
    assert EMAIL in [s for t in raw.tables for c in t.columns for s in c.samples]


def test_the_model_never_sees_samples_a_role_may_not(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    class Generator:
        def ask(self, question: str, context: Any, examples: list[Any]) -> Any:
            seen.append(context)
            from assistant.sql.generate import SqlAnswer
            return SqlAnswer(question, "SELECT 1", f"uses {EMAIL}")

    monkeypatch.setattr(type(services.sql), "generator", property(lambda self: Generator()))
    answer = services.sql_ask("who is alice@example.com?", role="citizen")
    assert_no_raw([[c.samples for c in t.columns] for t in seen[0].tables])
    assert_no_raw(answer.as_dict())


def _hit(payload: dict[str, Any], document: str = "") -> Ranked:
    return Ranked(Hit("id1", document, 0.9, payload), 0.9, 0.9, 0.9, coverage=0.9)


class _Retriever:
    def __init__(self, ranked: list[Ranked]) -> None:
        self.ranked = ranked

    def retrieve(self, *args: Any, **kwargs: Any) -> list[Ranked]:
        return self.ranked

    def reading(self, query: str) -> list[Any]:
        return []


def test_dataset_search_masks_every_field(services: Services) -> None:
    record = {"identifier": f"mailto:{EMAIL}", "title": f"Call {PHONE}", "publisher": f"Office {EMAIL}",
              "description": f"SSN {SSN}", "url": f"https://x.example/?m={PHONE}", "keywords": [RESIDENT_ID],
              "access_level": "public", "source": "catalog.json", "catalog": "dcat-us"}
    services._retriever = _Retriever([_hit(record)])  # type: ignore[assignment]
    results = services.search_datasets("anything", k=5, role="citizen")
    assert_no_raw([vars(r) for r in results])
    receipt = services.audit.recent(limit=1)[0]
    assert receipt.action == "datasets.search" and receipt.datasets == {f"mailto:{EMAIL}": ""}  # steward's view


def test_passage_search_masks_titles_and_headings(services: Services) -> None:
    meta = {"source": "guide.md", "title": f"Contact {EMAIL}", "heading_path": f"Hotline {PHONE}",
            "article": SSN, "access_level": "public"}
    services._retriever = _Retriever([_hit(meta, f"Call {PHONE}")])  # type: ignore[assignment]
    assert_no_raw([vars(p) for p in services.search_passages("hotline", k=3, role="citizen")])


class _Answerer:
    def ask_stream(self, question: str, role: str, history: Any, stream: bool = True) -> Iterator[Any]:
        yield f"Call {PHONE} "
        yield Answer(answer=f"Call {PHONE} [1]", found=True, language="en", closest_sources=[f"{EMAIL}.md"],
                     citations=[Citation(n=1, source=f"/srv/{EMAIL}.md", title=f"Guide for {EMAIL}", chunk_id="c1",
                                         quote=f"phone {PHONE}", heading_path=f"ID {RESIDENT_ID}", article=SSN)])


def test_answers_and_citations_are_masked_everywhere(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "answerer", lambda: _Answerer())
    events = list(services.ask_stream("hotline?", role="citizen"))
    assert_no_raw([e if isinstance(e, str) else e.model_dump() for e in events])
    assert events[-1].receipt_id == services.audit.recent(limit=1)[0].id


# ---- item 6: every call that reaches Services leaves a receipt, whatever happens after ----

@pytest.mark.parametrize(("call", "outcome"), [
    (lambda s: s.sql_run("SELECT " + "(" * 3000 + "1" + ")" * 3000, role="citizen"), "refused: the query nests"),
    (lambda s: s.sql_run("SELECT INTERVAL 100000000 YEAR AS forever", role="citizen"), "refused: a value in"),
    (lambda s: s.sql_run("SELECT id FROM people", role="nobody"), "refused: unknown role"),
    (lambda s: s.search_datasets("", k=3, role="citizen"), "refused: QUERY must not be empty"),
])
def test_failures_leave_receipts(services: Services, call: Any, outcome: str) -> None:
    with pytest.raises(GovDataError):
        call(services)
    receipt = services.audit.recent(limit=1)[0]
    assert receipt.outcome.startswith(outcome), receipt.outcome
    assert services.audit.verify().ok


def test_a_bug_inside_a_use_case_still_leaves_a_receipt(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(type(services.sql), "run", explode)
    with pytest.raises(RuntimeError):
        services.sql_run("SELECT id FROM people", role="citizen")
    assert services.audit.recent(limit=1)[0].outcome == "failed: RuntimeError"


def test_check_and_tables_leave_receipts(services: Services) -> None:
    assert services.sql_check("SELECT ssn FROM people", role="citizen").allowed is False
    assert services.sql_check("SELECT id FROM people", role="citizen").allowed
    services.sql_tables("citizen", user="eve")
    tables, allowed, rejected = services.audit.recent(limit=3)
    assert rejected.action == "sql.check" and rejected.outcome.startswith("rejected: column people.ssn")
    assert allowed.outcome == "allowed" and list(allowed.datasets) == ["people"]
    assert tables.action == "sql.tables" and tables.user == "eve" and list(tables.datasets) == ["people"]


def test_an_abandoned_stream_leaves_a_receipt(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "answerer", lambda: _Answerer())
    stream = services.ask_stream("hotline?", role="citizen")
    next(stream)
    stream.close()
    assert services.audit.recent(limit=1)[0].outcome == "abandoned"


# ---- item 9: --db never opens the assistant's own files ----

def test_db_cannot_name_the_approved_database_or_the_audit_log(services: Services, tmp_path: Path) -> None:
    services.sql_run("SELECT id FROM people", role="citizen")  # creates the audit log
    home = services.settings.home
    link = tmp_path / "innocent.duckdb"
    os.link(services.sql.approved.database, link)
    for db in (services.sql.approved.database, home / "audit" / "audit.sqlite", link, home):
        with pytest.raises(GovDataError, match="GOVDATA_HOME"):
            services.sql_run("SELECT ssn FROM people", role="citizen", db=db)
    assert all(r.outcome.startswith("refused: db ") for r in services.audit.recent(limit=4))
