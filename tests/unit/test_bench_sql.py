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
    summary = bench.summarize([{"system": "govdata", "language": "en", "correct": True, "part": "held_out",
                                "db": "d", "seconds": 2.0, "sql": "", "gold": ""}])
    assert summary["govdata/en"]["parts"]["held_out"] == {"n": 1, "ex": 1.0, "ci95": [0.207, 1.0]}
