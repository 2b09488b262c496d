"""Issue 26, items 5 and 8: every text that enters Services is cleaned (lone surrogates, undecodable bytes and NUL
become U+FFFD) and bounded (one line naming the limit, before any work), and every such call leaves a receipt
that keeps a bounded copy of the question and SQL with the full text's sha256. Real DuckDB and SQLite; retrieval
and generation scripted as in test_use_cases."""

import hashlib
import inspect
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from assistant.audit import GENESIS, entry_hash
from assistant.boundary import clean
from assistant.services import ENTRIES, Services
from assistant.ui import workbench
from assistant.ui.common import Caller
from core.errors import FieldError, GovDataError
from core.settings import AuditSettings, Settings
from tests.unit.test_use_cases import (
    FIXTURES,
    _Retriever,
    services,  # noqa: F401  (the fixture)
)

BAD = "\ud800 \udced\udca0\udc80 \x00"  # JSON's lone "\ud800", the argv bytes ED A0 80 as Python keeps them, NUL
ROOT = Path(__file__).resolve().parents[2]


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_clean_replaces_what_cannot_be_encoded_and_keeps_the_rest() -> None:
    assert clean(BAD) == "\ufffd \ufffd\ufffd\ufffd \ufffd"
    assert clean("\ud83d\ude00 ok 中文\t\n") == "😀 ok 中文\t\n"  # a valid pair is the character it encodes
    assert clean("plain") == "plain"


CALLS: list[tuple[str, Callable[[Services], Any]]] = [
    ("ask", lambda s: s.ask(f"q {BAD}", role="citizen", history=[(f"before {BAD}", "a")])),
    ("docs.search", lambda s: s.search_passages(f"q {BAD}", k=1, role="citizen")),
    ("datasets.search", lambda s: s.search_datasets(f"q {BAD}", k=1, role="citizen", format=BAD)),
    ("sql.ask", lambda s: s.sql_ask(f"how many permits? {BAD}", role="citizen")),
    ("sql.run", lambda s: s.sql_run(f"SELECT count(*) FROM permits WHERE kind <> '{BAD}'", role="citizen")),
    ("sql.check", lambda s: s.sql_check(f"SELECT count(*) FROM permits WHERE kind <> '{BAD}'", role="citizen")),
    ("sql.learn", lambda s: s.learn(f"how many? {BAD}", f"SELECT count(*) FROM permits WHERE kind <> '{BAD}'",
                                    role="data_steward")),
    ("audit.read", lambda s: s.audit_receipts(role=f"citizen{BAD}")),
]


@pytest.mark.parametrize(("action", "call"), CALLS, ids=[a for a, _ in CALLS])
def test_undecodable_text_is_cleaned_and_leaves_a_receipt(services: Services, action: str,  # noqa: F811
                                                          call: Callable[[Services], Any]) -> None:
    """Item 8: `SELECT 1 -- \\xed\\xa0\\x80` and JSON's "\\ud800" ended in a UnicodeEncodeError and no receipt."""
    before = services.audit.verify().entries
    try:
        call(services)
    except GovDataError:
        pass  # a refusal is fine (audit.read for an unknown role); an encoding error is not
    receipt = services.audit.recent(limit=1)[0]
    assert services.audit.verify().ok and services.audit.verify().entries == before + 1
    assert receipt.action == action and not receipt.outcome.startswith("failed"), receipt.outcome
    stored = json.dumps(receipt.as_dict(), ensure_ascii=False)
    assert "\ufffd" in stored and "\x00" not in stored
    stored.encode("utf-8")  # nothing left that UTF-8 cannot hold


def test_the_workbench_shows_a_verdict_not_an_encoding_error(services: Services) -> None:  # noqa: F811
    shown = workbench.check(services, Caller("ana", "citizen"), "SELECT count(*) FROM permits -- \ud800", "en")
    assert shown.startswith("allowed: ")


class _Untouchable:
    """A retriever that fails the test if a refused search reached it."""

    def retrieve(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a text over its limit reached the search")


TOO_LONG: list[tuple[str, str, Callable[[Services], Any]]] = [
    ("datasets.search", "query: longer than the limit of 2,000 characters (it has 100,000)",
     lambda s: s.search_datasets("x" * 100_000, k=5, role="citizen")),
    ("docs.search", "query: longer than the limit of 2,000",
     lambda s: s.search_passages("x" * 2001, k=5, role="citizen")),
    ("ask", "question: longer than the limit of 2,000", lambda s: s.ask("x" * 5000, role="citizen")),
    ("ask", "history: longer than the limit of 8,000",
     lambda s: s.ask("q", role="citizen", history=[("x" * 9000, "")])),
    ("datasets.search", "publisher: longer than the limit of 500",
     lambda s: s.search_datasets("q", k=5, role="citizen", publisher="p" * 501)),
    ("sql.ask", "question: longer than the limit of 2,000", lambda s: s.sql_ask("x" * 3000, role="citizen")),
    ("sql.run", "sql: longer than the limit of 20,000",
     lambda s: s.sql_run("SELECT 1 " + " " * 20_000, role="citizen")),
    ("sql.check", "sql: longer than the limit of 20,000", lambda s: s.sql_check("x" * 20_001, role="citizen")),
    ("sql.learn", "question: longer than the limit of 2,000",
     lambda s: s.learn("x" * 2001, "SELECT 1", role="data_steward")),
    ("audit.read", "of_user: longer than the limit of 500",
     lambda s: s.audit_receipts(role="data_steward", of_user="u" * 501)),
]


@pytest.mark.parametrize(("action", "message", "call"), TOO_LONG,
                         ids=[f"{a}-{m.split(':')[0]}" for a, m, _ in TOO_LONG])
def test_a_text_over_its_limit_is_refused_with_the_limit_and_a_receipt(services: Services,  # noqa: F811
                                                                       action: str, message: str,
                                                                       call: Callable[[Services], Any]) -> None:
    """Item 5: a 5 MB search text was searched (twice) and kept whole in its receipt."""
    services._retriever = _Untouchable()  # type: ignore[assignment]
    with pytest.raises(FieldError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(services)
    receipt = services.audit.recent(limit=1)[0]
    assert receipt.action == action and receipt.outcome.startswith(f"refused: {message}"), receipt.outcome
    assert len(receipt.question) <= 20_000 and len(receipt.sql) <= 20_000


def test_receipts_keep_a_bounded_copy_and_the_full_texts_sha256(services: Services) -> None:  # noqa: F811
    services.settings = services.settings.model_copy(update={"audit": AuditSettings(max_text_chars=100)})
    services._retriever = _Untouchable()  # type: ignore[assignment]
    query = "y" * 5000
    with pytest.raises(FieldError):
        services.search_datasets(query, k=5, role="citizen")
    refused = services.audit.recent(limit=1)[0]
    assert len(refused.question) == 100 and refused.question.endswith("…")
    assert refused.question_sha256 == _sha256(query) and refused.sql_sha256 == ""
    sql = "SELECT count(*) AS n FROM permits WHERE kind <> '" + "z" * 200 + "'"
    ran = services.sql_run(sql, role="civil_servant")
    kept = services.audit.get(ran.receipt_id)
    assert len(kept.sql) == 100 and kept.sql_sha256 == _sha256(ran.sql)  # the guard's SQL, the one that ran
    with pytest.raises(GovDataError, match="keeps only the start of its SQL"):
        services.audit_replay(ran.receipt_id, role="data_steward")  # never a cut query
    assert services.audit.verify().ok


def test_receipts_written_before_the_hashes_still_verify_and_read(tmp_path: Path) -> None:
    svc = Services(Settings(home=tmp_path / "home"))
    log = svc.audit
    old = {"action": "sql.run", "user": "old", "role": "citizen", "question": "", "route": "sql", "interface": "cli",
           "chunk_ids": [], "sources": [], "datasets": {}, "sql": "SELECT 1", "row_count": 1, "model": "",
           "settings": {}, "answer_hash": "", "raw_values": False, "outcome": "ok",
           "time": "2025-01-01T00:00:00.000+00:00"}  # a body as the log wrote it before issue 26
    body = json.dumps(old, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    log.folder.mkdir(parents=True)
    with sqlite3.connect(log.database) as connection:
        connection.executescript("CREATE TABLE receipts (id INTEGER PRIMARY KEY, time TEXT NOT NULL, user TEXT NOT "
                                 "NULL, action TEXT NOT NULL, body TEXT NOT NULL, prev_hash TEXT NOT NULL, "
                                 "hash TEXT NOT NULL)")
        connection.execute("INSERT INTO receipts VALUES (1, ?, 'old', 'sql.run', ?, ?, ?)",
                           (old["time"], body, GENESIS, entry_hash(1, GENESIS, body)))
    (log.folder / "head.json").write_text(json.dumps({"id": 1, "hash": entry_hash(1, GENESIS, body)}))
    with pytest.raises(GovDataError, match="no approved tables"):
        svc.sql_check("SELECT 2", role="citizen", user="new")
    first, second = log.get(1), log.get(2)
    assert (first.sql, first.sql_sha256) == ("SELECT 1", "") and second.sql_sha256 == _sha256("SELECT 2")
    assert log.verify().ok and log.verify().entries == 2


def test_only_the_latest_turns_of_a_conversation_are_taken(services: Services) -> None:  # noqa: F811
    seen: list[Any] = []

    class Answerer:
        def ask_stream(self, question: str, role: str, history: Any, stream: bool = True) -> Any:
            from assistant.models import Answer

            seen.append(history)
            yield Answer(answer="a", found=False, language="en")

    services.answerer = lambda: Answerer()  # type: ignore[assignment,method-assign]
    services.ask("q", role="citizen", history=[(f"q{n}", f"a{n}") for n in range(50)])
    assert seen[-1] == [(f"q{n}", f"a{n}") for n in range(40, 50)]  # GOVDATA_INPUT__MAX_HISTORY_TURNS = 10


def test_routing_reads_at_most_the_question_limit(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The route is only a hint: a long question is routed on its start, and the use case it goes to refuses it."""
    import assistant.routing

    read: list[str] = []
    monkeypatch.setattr(assistant.routing, "route", lambda question, embed, previous: read.append(question))
    services._embeddings = SimpleNamespace(embed_array=None)  # type: ignore[assignment]
    services.route("x" * 50_000 + BAD)
    assert read == ["x" * 2000]


def test_every_use_case_enters_through_the_boundary() -> None:
    """No use case can forget to clean and bound its texts: each public method that acts for a user is an entry,
    and so is the hidden-match count the search shells call with the same words."""
    use_cases = [name for name, member in inspect.getmembers(Services, inspect.isfunction)
                 if not name.startswith("_") and "user" in inspect.signature(member).parameters and name != "user"]
    assert len(use_cases) >= 20
    missing = [name for name in [*use_cases, "hidden_matches"] if name not in ENTRIES]
    assert missing == []


def test_the_cli_takes_undecodable_argv_bytes_and_leaves_a_receipt(tmp_path: Path) -> None:
    """`govdata sql check $'SELECT 1 -- \\xed\\xa0\\x80'` ended in `internal failure (UnicodeEncodeError ...)`."""
    home = tmp_path / "home"
    Services(Settings(home=home)).sql.approved.add(FIXTURES / "permits.csv", access_level="public")
    env = {**os.environ, "GOVDATA_HOME": str(home), "GOVDATA_USER": "tester", "OMP_WAIT_POLICY": "PASSIVE"}
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "sql", "check",
                           b"SELECT count(*) FROM permits -- \xed\xa0\x80 \xff", "--json"],
                          capture_output=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert json.loads(done.stdout)["allowed"] is True
    [receipt] = Services(Settings(home=home)).audit.recent()
    assert receipt.action == "sql.check" and receipt.outcome == "allowed" and "\ufffd" in receipt.sql


def test_retrieval_sees_clean_text(services: Services) -> None:  # noqa: F811
    seen: list[str] = []

    class Spy(_Retriever):
        def retrieve(self, query: str, *args: Any, **kwargs: Any) -> Any:
            seen.append(query)
            return super().retrieve(query, *args, **kwargs)

    services._retriever = Spy()  # type: ignore[assignment]
    services.search_datasets(f"water {BAD}", k=1, role="citizen")
    assert seen == [f"water {clean(BAD)}"]
