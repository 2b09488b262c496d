"""The text-to-SQL bench's own arithmetic: intervals, the held-back part, error classes (bench/sql.py)."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "sql.py"
spec = importlib.util.spec_from_file_location("bench_sql", BENCH)
assert spec and spec.loader
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_wilson_interval() -> None:
    assert bench.wilson(24, 30) == [0.627, 0.905]  # 0.80 of 30 questions: about ±14 points
    assert bench.wilson(0, 10) == [0.0, 0.278] and bench.wilson(10, 10) == [0.722, 1.0]
    assert bench.wilson(0, 0) == [0.0, 0.0]


def test_held_out_part_is_fixed_and_excludes_tuned_questions() -> None:
    tuned = {"spider-dev-0000"}
    assert bench.part_of("spider-dev-0000", tuned) == "tuned"
    parts = [bench.part_of(f"spider-dev-{n:04d}", tuned) for n in range(1, 461)]
    assert parts == [bench.part_of(f"spider-dev-{n:04d}", tuned) for n in range(1, 461)]  # deterministic
    assert 0.15 < parts.count("held_out") / len(parts) < 0.25


def test_error_classes() -> None:
    item = {"sql": "SELECT a FROM t JOIN u ON 1", "gold": "SELECT a FROM t INTERSECT SELECT a FROM u", "ran": True}
    assert bench.error_class(item) == "set operation missing (INTERSECT)"
    assert bench.error_class({**item, "ran": False}) == "no query ran (guard or engine error)"
    assert bench.error_class({"sql": "SELECT a FROM t", "gold": "SELECT a FROM t JOIN u", "ran": True}) == \
        "different joins"
    capped = {"sql": "SELECT a FROM t WHERE b = 2 LIMIT 100000", "gold": "SELECT a FROM t WHERE b = 1", "ran": True}
    assert bench.error_class(capped) == "wrong values or filter"  # the runner's cap is not an asked-for LIMIT
    assert bench.error_class({**capped, "sql": "SELECT a FROM t LIMIT 3"}) == "ordering or limit differs"
    summary = bench.summarize([{"system": "govdata", "language": "en", "correct": True, "part": "held_out",
                                "db": "d", "seconds": 2.0, "sql": "", "gold": ""}])
    assert summary["govdata/en"]["parts"]["held_out"] == {"n": 1, "ex": 1.0, "ci95": [0.207, 1.0]}


def test_a_split_may_name_the_part_of_each_question() -> None:
    assert bench.part_of("messy-x-01", set(), {"part": "held_out"}) == "held_out"
    assert bench.part_of("messy-x-01", set(), {"part": ""}) == bench.part_of("messy-x-01", set())


def test_first_k_candidates_vote_as_the_product_does() -> None:
    """An 8-candidate run scores 1, 3, 5 and 8 candidates: the first k, voted by the product's own rule."""
    trace = [{"key": "a", "correct": False, "seconds": 5.0}, {"key": "b", "correct": True, "seconds": 1.0},
             {"key": "b", "correct": True, "seconds": 1.0}, {"key": None, "correct": False, "seconds": 1.0},
             {"key": "a", "correct": False, "seconds": 1.0}, {"key": "a", "correct": False, "seconds": 1.0}]
    item = {"correct": False, "seconds": 10.0, "trace": trace}
    assert bench.first_k(item, 1) == (False, 5.0)
    assert bench.first_k(item, 3) == (True, 7.0)  # b twice beats a once
    assert bench.first_k(item, 5) == (False, 9.0)  # a twice ties b twice: the earlier group wins
    assert bench.first_k({"correct": False, "seconds": 4.0}, 8) == (False, 4.0)  # the first query failed: no vote
    items = [{**item, "system": "govdata", "language": "en", "part": "rest", "db": "d", "sql": "", "gold": "",
              "candidates": 6}]
    report = bench.summarize(items)["govdata/en"]["by_candidates"]
    assert list(report) == ["1", "3", "5"] and report["3"]["ex"] == 1.0 and report["5"]["median_seconds"] == 9.0


def test_paired_comparison_counts_gains_and_losses_on_shared_questions() -> None:
    def item(qid: str, correct: bool) -> dict[str, object]:
        return {"system": "govdata", "language": "en", "id": qid, "correct": correct}

    before = [item("a", True), item("b", False), item("c", True)]
    after = [item("a", True), item("b", True), item("c", False), item("d", True)]  # d: not in both, left out
    assert bench.paired(before, after) == {"govdata/en": {"n": 3, "before": 2, "after": 2, "gained": 1, "lost": 1}}


def test_the_knowledge_split_never_asks_a_question_whose_sql_was_taught() -> None:
    """Issue 32: per database, questions grouped by gold SQL (case, spacing, a final ; aside); every other group
    taught, the rest asked."""
    rows = [{"id": f"q{n}", "db_id": db, "gold_sql": sql, "question": f"question {n}"}
            for n, (db, sql) in enumerate([("a", "SELECT 1"), ("a", "select  1;"), ("a", "SELECT 2"), ("a", "SELECT 3"),
                                           ("a", "SELECT 4"), ("b", "SELECT 1"), ("b", "SELECT 5")])]
    taught, asked = bench.knowledge_split(rows)
    assert sorted(r["id"] for r in taught + asked) == sorted(r["id"] for r in rows)
    for db in ("a", "b"):
        keys = [{bench.gold_key(r["gold_sql"]) for r in part if r["db_id"] == db} for part in (taught, asked)]
        assert keys[0] and keys[1] and not keys[0] & keys[1]
    assert bench.knowledge_split(rows) == (taught, asked)  # fixed by a hash, not by chance
    assert {r["id"] for r in taught} >= {"q0", "q1"} or {r["id"] for r in asked} >= {"q0", "q1"}


def test_the_knowledge_gain_is_paired_per_question() -> None:
    items = [{"id": q, "language": "en", "system": system, "correct": right}
             for q, without, taught in [("1", False, True), ("2", True, True), ("3", True, False), ("4", False, True)]
             for system, right in (("govdata", without), ("govdata+knowledge", taught))]
    gain = bench.knowledge_gain(items)["en"]
    assert (gain["n"], gain["without"]["ex"], gain["with"]["ex"], gain["gained"], gain["lost"]) == (4, 0.5, 0.75, 2, 1)
    assert gain["gain"] == 0.25 and gain["gain_ci95"][0] <= 0.25 <= gain["gain_ci95"][1]
