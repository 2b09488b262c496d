"""Every use case of Services checks what the role may do and leaves a receipt (issue 13's first slice; the
steward actions are issue 16's item 4). Retrieval and generation are scripted here: this is control flow;
the real stack is in tests/e2e."""

import shutil
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest

from assistant.models import Answer
from assistant.services import Services
from core.errors import GovDataError
from core.settings import Settings
from vectorstore.retriever import Ranked
from vectorstore.store import Hit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sql"


class _Retriever:
    def retrieve(self, *args: Any, **kwargs: Any) -> list[Ranked]:
        record = {"identifier": "x", "title": "T", "source": "s", "access_level": "public"}
        return [Ranked(Hit("x", "text", 0.9, record), 0.9, 0.9, 0.9, coverage=0.9)]

    def reading(self, query: str) -> list[Any]:
        return []


class _Answerer:
    def ask_stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        yield Answer(answer="a", found=False, language="en")


class _Generator:
    def ask(self, question: str, context: Any, examples: Any) -> Any:
        from assistant.sql.generate import SqlAnswer

        return SqlAnswer(question, "SELECT 1", "one")


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("GOVDATA_USER", "tester")
    shutil.copy(FIXTURES / "permits.csv", tmp_path / "permits.csv")
    svc = Services(Settings(home=tmp_path / "home"))
    monkeypatch.setattr(svc, "ingest", lambda paths, **kwargs: type("Summary", (), {"added": 1, "updated": 0})())
    monkeypatch.setattr(svc, "answerer", lambda: _Answerer())
    svc._retriever = _Retriever()  # type: ignore[assignment]
    monkeypatch.setattr(type(svc.sql), "generator", property(lambda self: _Generator()))
    svc.add_tables(tmp_path / "permits.csv", access_level="public", role="data_steward")
    return svc


USE_CASES: list[tuple[str, Callable[[Services, str], Any]]] = [
    ("ask", lambda s, role: s.ask("q", role=role)),
    ("docs.search", lambda s, role: s.search_passages("q", k=1, role=role)),
    ("datasets.search", lambda s, role: s.search_datasets("q", k=1, role=role)),
    ("sql.ask", lambda s, role: s.sql_ask("how many permits?", role=role)),
    ("sql.run", lambda s, role: s.sql_run("SELECT count(*) FROM permits", role=role)),
    ("sql.check", lambda s, role: s.sql_check("SELECT count(*) FROM permits", role=role)),
    ("sql.tables", lambda s, role: s.sql_tables(role)),
    ("sql.check", lambda s, role: s.eval_guard_line({"id": 1, "sql": "SELECT count(*) FROM pets"},
                                                    FIXTURES / "pets_1.sqlite", role=role)),
    ("datasets.add", lambda s, role: s.add_tables(FIXTURES / "permits.csv", name="permits2", role=role)),
    ("sql.learn", lambda s, role: s.learn("how many permits?", "SELECT count(*) FROM permits", role=role)),
]
STEWARD_ONLY = {"datasets.add", "sql.learn"}


@pytest.mark.parametrize(("action", "call"), USE_CASES, ids=[a for a, _ in USE_CASES])
@pytest.mark.parametrize("role", ["citizen", "data_steward"])
def test_every_use_case_checks_the_role_and_leaves_a_receipt(services: Services, action: str,
                                                             call: Callable[[Services, str], Any], role: str) -> None:
    before = services.audit.verify().entries
    if action in STEWARD_ONLY and role != "data_steward":
        with pytest.raises(GovDataError, match=f"role '{role}' may not"):
            call(services, role)
    else:
        call(services, role)
    receipt = services.audit.recent(limit=1)[0]
    assert services.audit.verify().entries == before + 1
    assert receipt.action == action and receipt.role == role and receipt.user == "tester"
    refused = action in STEWARD_ONLY and role != "data_steward"
    assert receipt.outcome.startswith("refused: role") == refused, receipt.outcome


AUDIT_READS: list[tuple[str, Callable[[Services, str], Any]]] = [
    ("list", lambda s, role: s.audit_receipts(role=role)),
    ("show", lambda s, role: s.audit_receipt(1, role=role)),
    ("export", lambda s, role: s.audit_export("jsonl", role=role)),
    ("verify", lambda s, role: s.audit_verify(role=role)),
    ("replay", lambda s, role: s.audit_replay(1, role=role)),
]


@pytest.mark.parametrize(("what", "call"), AUDIT_READS, ids=[w for w, _ in AUDIT_READS])
def test_reading_the_audit_log_needs_audit_read_and_a_refusal_is_on_it(services: Services, what: str,
                                                                       call: Callable[[Services, str], Any]) -> None:
    before = services.audit.verify().entries
    with pytest.raises(GovDataError, match="role 'citizen' may not"):
        call(services, "citizen")
    refused = services.audit.recent(limit=1)[0]
    assert (refused.action, refused.role, refused.user) == ("audit.read", "citizen", "tester")
    assert refused.outcome.startswith("refused: role") and what in refused.question
    assert services.audit.verify().entries == before + 1
    with pytest.raises(GovDataError) if what == "replay" else nullcontext():  # receipt 1 is the datasets.add
        call(services, "data_steward")
    assert services.audit.verify().entries == before + 1  # an allowed read does not move the head


def test_named_actions_come_from_the_roles_file(tmp_path: Path) -> None:
    from assistant.policy.roles import load_roles

    roles = tmp_path / "roles.json"
    roles.write_text('{"auditor": {"access_levels": ["public"], "actions": ["audit.read"]},'
                     ' "data_steward": {"access_levels": ["public"]}}')
    loaded = load_roles(roles)
    assert loaded["auditor"].allowed("audit.read") and not loaded["auditor"].allowed("tables.approve")
    assert loaded["data_steward"].allowed("tables.approve")  # a file from before actions keeps the steward's rights
    bad = tmp_path / "bad-roles.json"  # load_roles caches by path
    bad.write_text('{"x": {"access_levels": ["public"], "actions": ["drop.everything"]}}')
    with pytest.raises(GovDataError, match="unknown action"):
        load_roles(bad)


@pytest.mark.parametrize(("value", "day"), [("2026", 20260101), ("2026-11", 20261101), ("2026-11-05", 20261105),
                                            ("2026-11-05T10:00", 20261105), ("2026-11-05T01:00+08:00", 20261104)])
def test_one_reading_of_since_for_catalogs_and_receipts(value: str, day: int) -> None:
    from core.dates import since_day

    assert since_day(value) == day


@pytest.mark.parametrize("value", ["x", "2026-13", "26", "2026-01-01-01", "2026-02-30"])
def test_a_bad_since_names_the_field(value: str) -> None:
    from assistant.cli.common import error_text
    from core.dates import parse_since
    from core.errors import FieldError

    with pytest.raises(FieldError) as raised:
        parse_since(value)
    assert raised.value.field == "since" and error_text(raised.value).startswith(f"--since {value!r}: expected")


def test_audit_receipts_since_filters_by_utc_time(services: Services) -> None:
    assert len(services.audit_receipts(role="data_steward", since="2000")) == 1  # the datasets.add
    assert services.audit_receipts(role="data_steward", since="2999-01-01T00:00+08:00") == []


def test_hidden_matches_count_only_listed_levels_that_would_have_made_the_top_k(services: Services) -> None:
    """Issue 17: a citizen is told how many better matches are not public (never which); non-public records are
    not counted by default, and a role that may see the level is told nothing. Issue 26: one search over the
    words alone, with none of the user's filters."""

    class Hidden:
        def retrieve(self, query: str, *, k: int, filters: Any, collection: str) -> list[Ranked]:
            assert filters.access_levels == ("public", "restricted public")  # never non-public by default
            assert filters.where() is None and not filters.publishers  # the words only
            levels = ("restricted public", "public", "restricted public", "public")
            return [Ranked(Hit(f"h{i}", "t", 1 - i / 10, {"access_level": level}), 0, 0, 1 - i / 10)
                    for i, level in enumerate(levels)][:k]

    services._retriever = Hidden()  # type: ignore[assignment]
    assert services.hidden_matches("q", k=3, role="citizen") == 2
    assert services.hidden_matches("q", k=1, role="citizen") == 1
    assert services.hidden_matches("q", k=3, role="civil_servant") == 0  # it may see restricted public
    assert services.hidden_matches("   ", k=3, role="citizen") == 0
