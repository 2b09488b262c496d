"""Issue 14: what a query costs is decided before it runs, on tables made here (not the fixtures' schemas):
the engine's plan for products and joins, static bounds for what a plan cannot see, and fair sharing."""

import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from assistant.gate import Busy, Gate
from assistant.services import Services
from core.errors import GovDataError
from core.settings import Settings, SqlSettings


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("GOVDATA_USER", "tester")
    source = tmp_path / "tables"
    source.mkdir()
    con = duckdb.connect()
    con.execute(f"COPY (SELECT range AS id, 'city ' || range AS name, (range * 37) % 100000 AS population "
                f"FROM range(4079)) TO '{source / 'city.parquet'}' (FORMAT parquet)")
    con.execute(f"COPY (SELECT range AS id FROM range(20)) TO '{source / 'tiny.parquet'}' (FORMAT parquet)")
    wide = ", ".join(f"range % {n + 2} AS c{n}" for n in range(60))
    con.execute(f"COPY (SELECT range AS id, {wide} FROM range(1000)) TO '{source / 'wide.parquet'}' (FORMAT parquet)")
    svc = Services(Settings(home=tmp_path / "home", sql=SqlSettings(max_concurrent_per_user=1, queue_wait_s=0.2)))
    for name in ("city", "tiny", "wide"):
        svc.sql.approved.add(source / f"{name}.parquet")
    return svc


@pytest.mark.parametrize(("sql", "reason"), [
    ("SELECT count(*) FROM city a, city b, city c", "would combine about 67.9 billion rows at one step"),
    ("SELECT count(*) FROM tiny a, tiny b, tiny c, tiny d, tiny e, tiny f, tiny g, tiny h",
     "would combine about 25.6 billion rows"),
    ("SELECT count(*) FROM city a JOIN city b ON a.population > b.population JOIN city c ON true",
     "would combine about"),
    ("SELECT count(*) FROM wide a, wide b, wide c, wide d", "would combine about 1 trillion rows"),
    ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
     "no condition that stops"),
    ("SELECT repeat('x', 1000000000) FROM city LIMIT 1", "repeat() must be a whole number up to 10,000"),
    ("SELECT co.name, g.i FROM city AS co, LATERAL generate_series(1, co.population) AS g(i)",
     "range()/generate_series() needs whole-number constants"),
    ("SELECT co.name FROM city AS co, LATERAL (SELECT unnest(range(co.population)) AS i) AS g",
     "whole-number constants"),
])
def test_expensive_queries_are_refused_before_they_run(services: Services, sql: str, reason: str) -> None:
    started = time.perf_counter()
    with pytest.raises(GovDataError) as refused:
        services.sql_run(sql, role="citizen")
    assert reason in str(refused.value), str(refused.value)
    assert time.perf_counter() - started < 2  # refused from the plan or the tree, never after running
    receipt = services.audit.recent(limit=1)[0]
    assert receipt.action == "sql.run" and receipt.outcome.startswith("refused: ")


@pytest.mark.parametrize("sql", [
    "SELECT a.name, b.name FROM city a JOIN city b ON a.id = b.id + 1 WHERE a.population > 50000",
    "SELECT c7, count(*) AS n, avg(c59) FROM wide GROUP BY c7 ORDER BY n DESC",
    "SELECT t.id, c.name FROM tiny t, city c WHERE c.id = t.id",
    "SELECT count(*) FROM tiny a, tiny b, tiny c",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 12) SELECT n FROM r",
])
def test_legitimate_queries_on_the_same_tables_still_run(services: Services, sql: str) -> None:
    assert services.sql_run(sql, role="citizen").row_count >= 1


def test_the_gate_caps_each_user_role_and_the_server() -> None:
    gate = Gate(total=2, per_role=2, per_user=1, wait_s=0.05)
    with gate.slot("ana", "citizen"):
        with pytest.raises(Busy, match="busy: you already have 1 query running"):
            with gate.slot("ana", "citizen"):
                pass
        with gate.slot("bo", "citizen"):
            assert gate.running == {"ana": 1, "bo": 1}
            with pytest.raises(Busy, match="the role citizen already has 2"):
                with gate.slot("cy", "citizen"):
                    pass
            with pytest.raises(Busy, match="the server already has 2"):
                with gate.slot("dee", "civil_servant"):
                    pass
    with gate.slot("ana", "citizen"):  # everything released
        assert gate.running["ana"] == 1


def test_a_waiting_query_gets_the_slot_when_it_frees(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    release, entered = threading.Event(), threading.Event()
    original = type(services.sql).run

    def slow_run(self: Any, *args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(5)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(type(services.sql), "run", slow_run)
    first = threading.Thread(target=services.sql_run, args=("SELECT count(*) FROM tiny",),
                             kwargs={"role": "citizen", "user": "ana"})
    first.start()
    assert entered.wait(5)
    with pytest.raises(Busy, match="busy: you already have 1"):  # the same user, within 0.2 s
        services.sql_run("SELECT count(*) FROM tiny", role="citizen", user="ana")
    threading.Timer(0.05, release.set).start()
    assert services.sql_run("SELECT count(*) FROM tiny", role="citizen", user="bo").rows == [[20]]
    first.join(5)
    outcomes = [r.outcome for r in services.audit.recent(limit=3)]
    assert sorted(o.split(":")[0] for o in outcomes) == ["ok", "ok", "refused"]


def test_a_tight_loop_is_slowed_to_the_per_user_rate() -> None:
    gate = Gate(total=4, per_role=4, per_user=4, wait_s=0.0, per_user_per_minute=60, burst=2)
    for _ in range(2):  # the burst
        with gate.slot("loop", "citizen"):
            pass
    with pytest.raises(Busy, match="more than 60 queries a minute"):
        with gate.slot("loop", "citizen"):
            pass
    with gate.slot("someone-else", "citizen"):  # one user's pace is not another's
        pass
    patient = Gate(total=4, per_role=4, per_user=4, wait_s=2.0, per_user_per_minute=600, burst=1)
    started = time.perf_counter()
    for _ in range(3):
        with patient.slot("loop", "citizen"):
            pass
    assert 0.15 < time.perf_counter() - started < 1.5  # waited ~0.1 s per extra query instead of failing


def test_one_user_holds_one_model_slot_and_others_still_get_answers(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-user caps on model work: a second question from the same user waits and is told busy, while another
    user's question and every SQL run go through (runs use the engine's gate, not the model's)."""
    from assistant.models import Answer
    from core.settings import LlmSettings

    monkeypatch.setenv("GOVDATA_USER", "tester")
    release, entered = threading.Event(), threading.Event()

    class SlowAnswerer:
        def ask_stream(self, question: str, *args: Any, **kwargs: Any) -> Any:
            if question == "slow":
                entered.set()
                release.wait(5)
            yield Answer(answer=question, found=False, language="en")

    svc = Services(Settings(home=tmp_path / "home", llm=LlmSettings(provider="openai", base_url="http://x/v1",
                                                                    queue_wait_s=0.2, max_concurrent=3)))
    monkeypatch.setattr(svc, "answerer", SlowAnswerer)
    first = threading.Thread(target=svc.ask, args=("slow",), kwargs={"role": "citizen", "user": "ana"})
    first.start()
    assert entered.wait(5)
    with pytest.raises(Busy, match="busy: you already have 1 model answer running"):
        svc.ask("again", role="citizen", user="ana")
    assert svc.ask("other", role="citizen", user="bo").answer == "other"
    assert svc.model_gate.running == {"ana": 1, "bo": 0}
    release.set()
    first.join(5)
    assert svc.ask("again", role="citizen", user="ana").answer == "again"
    outcomes = sorted(r.outcome.split(":")[0] for r in svc.audit.recent(limit=4))
    assert outcomes == ["not found", "not found", "not found", "refused"]


def test_the_embedded_model_takes_two_workers_and_a_server_takes_its_setting() -> None:
    from core.settings import LlmSettings

    assert LlmSettings().workers() == 2
    assert LlmSettings(provider="openai", max_concurrent=12).workers() == 12
    assert LlmSettings(max_concurrent=1).workers() == 1


def test_parts_shared_by_web_sessions_are_built_once_under_concurrent_first_use(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The load test found it: two sessions' first searches opened two Chroma clients on one folder at once."""
    import assistant.usecases.desk as services_module

    built: list[int] = []

    def slow_gate(settings: Any) -> Gate:
        built.append(1)
        time.sleep(0.05)  # wide open for a second thread
        return Gate(1, 1, 1, 0.0)

    monkeypatch.setattr(services_module, "build_gate", slow_gate)
    svc = Services(Settings(home=tmp_path / "home"))
    seen: list[Gate] = []
    threads = [threading.Thread(target=lambda: seen.append(svc.gate)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert len(built) == 1 and len(seen) == 8 and all(g is seen[0] for g in seen)
