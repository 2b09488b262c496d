"""Disclosure control (issue 35): what the rules cost in utility, what attacks they stop, and the same measured for
differential privacy (OpenDP's Laplace mechanism) on the same queries.

    python bench/sdc.py --people 3000 --out bench/results/sdc.json

A synthetic clinic table (tests/unit/sdc_people.py, seeded) is registered and queried as a citizen through the real
guard, rewrite, engine and rules; truths come from DuckDB on the same file. It is declared with rows as units, so
person_id stays readable: the attacks measure the rules against an attacker who can pick any set of people (a
declared unit column is not in the role's file, which takes picking by id away).
- utility: released counts, sums and means of normal GROUP BY queries against the true ones (mean absolute and
  relative error, share of cells suppressed), for cell-key perturbation and for DP at several epsilons per query;
- differencing: count(person_id >= i AND diabetes) - count(person_id > i AND diabetes) for many people: how often
  the naive reading (difference == 1) and the best attacker (Bayes over the known noise law) are right, against
  always guessing the more common answer; with and without the query layer, and for DP;
- averaging rewordings: the same pair asked in m wordings each, the means compared;
- averaging partitions: a count recovered exactly from m queries that split the same people in two at random
  (hash(person_id || salt) % 2), the attack cell-key perturbation does not stop (a DP budget does).
"""

import argparse
import itertools
import json
import math
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.sql import sdc  # noqa: E402
from assistant.sql.service import SqlService  # noqa: E402
from core.settings import Settings  # noqa: E402
from tests.unit.sdc_people import write_clinic  # noqa: E402

NORMAL = [  # label, grouping keys, WHERE, measures: name -> (kind, column, DP's bound on one person's value)
    ("count by ward", ["ward"], "", {"n": ("count", "", 0)}),
    ("count by ward, sex", ["ward", "sex"], "", {"n": ("count", "", 0)}),
    ("count by ward, diagnosis", ["ward", "diagnosis"], "", {"n": ("count", "", 0)}),
    ("count by age band, sex", ["age // 10 * 10", "sex"], "", {"n": ("count", "", 0)}),
    ("diabetes over 60 by ward", ["ward"], "diagnosis = 'diabetes' AND age > 60", {"n": ("count", "", 0)}),
    ("income by ward", ["ward"], "", {"s": ("sum", "income", 200_000), "a": ("avg", "income", 200_000)}),
    ("visits and age by diagnosis", ["diagnosis"], "", {"s": ("sum", "visits", 20), "a": ("avg", "age", 100)}),
]


def normal_sql(keys: list[str], where: str, measures: dict[str, tuple[str, str, int]]) -> str:
    outputs = [f"{k} AS k{i}" for i, k in enumerate(keys)]
    outputs += [f"{'count(*)' if kind == 'count' else f'{kind}({column})'} AS {name}"
                for name, (kind, column, _) in measures.items()]
    condition = f" WHERE {where}" if where else ""
    return f"SELECT {', '.join(outputs)} FROM people{condition} GROUP BY {', '.join(keys)}"


def service_for(folder: Path, people: int, **sdc_settings: Any) -> tuple[SqlService, duckdb.DuckDBPyConnection]:
    data = write_clinic(folder / "data", count=people, unit_column=False)
    home = folder / "home"
    (home / "sql").mkdir(parents=True, exist_ok=True)
    (home / "sql" / "sdc.key").write_text("42" * 32)
    service = SqlService(Settings(home=home, sdc=sdc_settings), lambda: None,  # type: ignore[arg-type,return-value]
                         lambda texts: None, lambda paths: None)  # type: ignore[arg-type,return-value]
    if not service.approved.tables():
        service.approved.add(data.people, name="people", describe=data.describe)
    truth = duckdb.connect()
    truth.execute(f"CREATE TABLE people AS SELECT * FROM read_csv('{data.people}')")
    return service, truth


def released(value: Any) -> bool:
    return value is not None and not sdc.is_suppressed(value)


# ---- utility ----

Errors = dict[tuple[str, str], dict[tuple[Any, ...], list[tuple[float, float]]]]


def cell_key_utility(service: SqlService, truth: duckdb.DuckDBPyConnection) -> tuple[list[dict[str, Any]], Errors]:
    """Per query and measure: cells, share suppressed, mean absolute and relative error of the released cells;
    and the errors by cell (what the DP run is compared on)."""
    out, errors = [], {}
    for label, keys, where, measures in NORMAL:
        sql = normal_sql(keys, where, measures)
        result = service.run(sql, role="citizen")
        exact = _by_key(result.columns, truth.execute(sql).fetchall(), len(keys))
        shown = _by_key(result.columns, result.rows, len(keys))
        for name, (kind, _, _) in measures.items():
            cells = {k: [_error(shown[k][name], v[name])] for k, v in exact.items()
                     if k in shown and released(shown[k][name]) and v[name]}
            errors[(label, name)] = cells
            out.append(_summary(label, name, kind, len(exact), cells))
    return out, errors


def _error(shown: float, true: float) -> tuple[float, float]:
    return abs(shown - true), abs(shown - true) / abs(true)


def _by_key(columns: list[str], rows: list[Any], keys: int) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(r[:keys]): dict(zip(columns[keys:], r[keys:], strict=True)) for r in rows}


def _summary(label: str, name: str, kind: str, cells: int,
             errors: dict[tuple[Any, ...], list[tuple[float, float]]]) -> dict[str, Any]:
    flat = [e for per_cell in errors.values() for e in per_cell]
    return {"query": label, "measure": name, "kind": kind, "cells": cells, "released": len(errors),
            "mae": round(statistics.mean(e for e, _ in flat), 3) if flat else None,
            "mean_relative_error": round(statistics.mean(r for _, r in flat), 4) if flat else None}


def pooled(rows: list[dict[str, Any]], errors: Errors) -> dict[str, dict[str, float | None]]:
    """Mean absolute and relative error over every released cell of each kind (counts, sums, means)."""
    out: dict[str, dict[str, float | None]] = {}
    kinds = {(r["query"], r["measure"]): r["kind"] for r in rows}
    for kind in ("count", "sum", "avg"):
        flat = [e for key, cells in errors.items() if kinds[key] == kind for per in cells.values() for e in per]
        out[kind] = {"cells": len(flat), "mae": round(statistics.mean(a for a, _ in flat), 3) if flat else None,
                     "mean_relative_error": round(statistics.mean(r for _, r in flat), 4) if flat else None}
    return out


def dp_utility(truth: duckdb.DuckDBPyConnection, epsilon: float, k: int, compared: Errors,
               draws: int = 20) -> tuple[list[dict[str, Any]], Errors]:
    """The same queries released with OpenDP's Laplace mechanism at `epsilon` per query, split evenly over a noisy
    count per group and a noisy clamped sum per summed column (each person is in one group, so groups compose in
    parallel; a mean is the noisy sum over the noisy count); keys taken as public (no partition selection, which
    would cost more); cells whose noisy count is under k suppressed (post-processing, still DP). Errors over
    `draws` independent releases, on the cells cell-key perturbation released too (`compared`)."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    out, errors = [], {}
    for label, keys, where, measures in NORMAL:
        columns = sorted({(column, bound) for kind, column, bound in measures.values() if kind != "count"})
        per = epsilon / (1 + len(columns))
        sums = [f"sum(least(greatest({c}, 0), {b}))" for c, b in columns]
        base = normal_sql(keys, where, measures)
        select, rest = base.split(" FROM people", 1)
        exact = truth.execute(f"{select}, count(*), {', '.join(sums) or '0'} FROM people{rest}").fetchall()
        first = len(keys) + len(measures)
        found: dict[str, dict[tuple[Any, ...], list[tuple[float, float]]]] = {name: {} for name in measures}
        for _ in range(draws):
            counts = _laplace_int(dp, [int(r[first]) for r in exact], 1 / per)
            noisy_sums = {(c, b): _laplace_float(dp, [float(r[first + 1 + i]) for r in exact], b / per)
                          for i, (c, b) in enumerate(columns)}
            for index, (name, (kind, column, bound)) in enumerate(measures.items()):
                if kind == "count":
                    noisy = [float(c) for c in counts]
                else:
                    totals = noisy_sums[(column, bound)]
                    noisy = totals if kind == "sum" else [t / max(c, 1) for t, c in zip(totals, counts, strict=True)]
                for value, count, row in zip(noisy, counts, exact, strict=True):
                    key = tuple(row[:len(keys)])
                    if count >= k and key in compared[(label, name)]:
                        found[name].setdefault(key, []).append(_error(value, float(row[len(keys) + index])))
        for name, (kind, _, _) in measures.items():
            errors[(label, name)] = found[name]
            out.append(_summary(label, name, kind, len(exact), found[name]))
    return out, errors


def _laplace_int(dp: Any, values: list[int], scale: float) -> list[int]:
    measurement = (dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)) >> dp.m.then_laplace(scale=scale)
    return list(measurement(values))


def _laplace_float(dp: Any, values: list[float], scale: float) -> list[float]:
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l1_distance(T=float)
    return list((space >> dp.m.then_laplace(scale=scale))(values))


# ---- attacks ----

def noise_laws(count_noise: int, query_span: int) -> tuple[dict[int, float], dict[int, float]]:
    """The difference of two released counts when the counted people are the same, and when one person differs."""
    def uniform(n: int) -> dict[int, float]:
        return {i: 1 / (2 * n + 1) for i in range(-n, n + 1)}

    def convolve(a: dict[int, float], b: dict[int, float]) -> dict[int, float]:
        out: Counter[int] = Counter()
        for (x, p), (y, q) in itertools.product(a.items(), b.items()):
            out[x + y] += p * q  # type: ignore[assignment]
        return dict(out)

    same = convolve(uniform(query_span), uniform(query_span))
    differ = {d + 1: p for d, p in convolve(convolve(uniform(count_noise), uniform(count_noise)), same).items()}
    return same, differ


def differencing(service: SqlService, truth: duckdb.DuckDBPyConnection, targets: range) -> dict[str, Any]:
    rules = sdc.SdcRules.of(service.settings.sdc)
    same, differ = noise_laws(rules.count_noise, rules.query_span)
    has = {i: d == "diabetes" for i, d in truth.execute("SELECT person_id, diagnosis FROM people").fetchall()}
    prior = sum(has[i] for i in targets) / len(targets)
    naive = best = certain = 0
    for i in targets:
        high = service.run(f"SELECT count(*) AS n FROM people WHERE person_id >= {i} AND diagnosis = 'diabetes'",
                           role="citizen").rows[0][0]
        low = service.run(f"SELECT count(*) AS n FROM people WHERE person_id > {i} AND diagnosis = 'diabetes'",
                          role="citizen").rows[0][0]
        d = high - low
        naive += (d == 1) == has[i]
        guess = prior * differ.get(d, 0) > (1 - prior) * same.get(d, 0)
        best += guess == has[i]
        certain += has[i] and same.get(d, 0) == 0
    return {"targets": len(targets), "baseline": round(max(prior, 1 - prior), 3),
            "naive_accuracy": round(naive / len(targets), 3), "best_accuracy": round(best / len(targets), 3),
            "certain_share_of_positives": round(certain / max(1, sum(has[i] for i in targets)), 3)}


def dp_differencing(epsilon: float, prior: float, trials: int, seed: int) -> dict[str, Any]:
    """The same pair under DP: two fresh Laplace(1/epsilon) counts; the best attacker thresholds the difference at
    the Bayes boundary (computed here by simulation over the same prior)."""
    rng = random.Random(seed)

    def laplace() -> float:
        u = rng.random() - 0.5
        return -math.copysign(1, u) * math.log(1 - 2 * abs(u)) / epsilon

    correct = 0
    for _ in range(trials):
        has = rng.random() < prior
        d = int(has) + laplace() - laplace()
        # Laplace differences are symmetric: P(d | has) > P(d | not) exactly when d > 1/2; prior shifts the line
        guess = prior * _laplace_difference_density(d - 1, epsilon) > (1 - prior) * _laplace_difference_density(
            d, epsilon)
        correct += guess == has
    return {"epsilon_per_query": epsilon, "best_accuracy": round(correct / trials, 3),
            "baseline": round(max(prior, 1 - prior), 3)}


def _laplace_difference_density(x: float, epsilon: float) -> float:
    a = abs(x) * epsilon
    return epsilon / 4 * (1 + a) * math.exp(-a)


def averaging_rewordings(service: SqlService, truth: duckdb.DuckDBPyConnection, targets: list[int],
                         variants: list[int]) -> list[dict[str, Any]]:
    """Each side of the pair asked in m wordings that select the same people (`AND age < 200 + j`); the attacker
    says "has diabetes" when the two means differ by more than half a count."""
    has = {i: d == "diabetes" for i, d in truth.execute("SELECT person_id, diagnosis FROM people").fetchall()}
    prior = sum(has[i] for i in targets) / len(targets)
    out = []
    for m in variants:
        correct = 0
        for i in targets:
            means = []
            for op in (">=", ">"):
                answers = [service.run(f"SELECT count(*) AS n FROM people WHERE person_id {op} {i} AND diagnosis = "
                                       f"'diabetes' AND age < {200 + j}", role="citizen").rows[0][0] for j in range(m)]
                means.append(statistics.mean(answers))
            correct += (abs(means[0] - means[1]) > 0.5) == has[i]
        out.append({"wordings_per_side": m, "queries_per_person": 2 * m, "accuracy": round(correct / len(targets), 3),
                    "baseline": round(max(prior, 1 - prior), 3)})
    return out


def averaging_partitions(service: SqlService, truth: duckdb.DuckDBPyConnection, rounds: list[int],
                         repeats: int) -> list[dict[str, Any]]:
    """The number of people with diabetes aged over 60, estimated from m queries that each split them in two at
    random (GROUP BY hash(person_id || salt) % 2): each half is a different set of people with its own noise, so
    the mean of the sums converges on the true count."""
    true = truth.execute("SELECT count(*) FROM people WHERE diagnosis = 'diabetes' AND age > 60").fetchall()[0][0]
    out = []
    for m in rounds:
        exact = 0
        errors = []
        for r in range(repeats):
            totals = []
            for j in range(m):
                rows = service.run(f"SELECT hash(person_id || 'salt{r}-{j}') % 2 AS half, count(*) AS n FROM people "
                                   "WHERE diagnosis = 'diabetes' AND age > 60 GROUP BY 1", role="citizen").rows
                if all(released(n) for _, n in rows):
                    totals.append(sum(n for _, n in rows))
            estimate = statistics.mean(totals) if totals else float("nan")
            errors.append(abs(estimate - true))
            exact += round(estimate) == true
        out.append({"queries": m, "exact_share": round(exact / repeats, 3),
                    "mean_abs_error": round(statistics.mean(errors), 3), "true_count": true})
    return out


def overhead(service: SqlService, repeats: int) -> dict[str, float]:
    queries = [normal_sql(keys, where, measures) for _, keys, where, measures in NORMAL]

    def timed(role: str) -> float:
        runs = []
        for _ in range(repeats):
            for sql in queries:
                started = time.perf_counter()
                service.run(sql, role=role)
                runs.append(time.perf_counter() - started)
        return round(1000 * statistics.median(runs), 1)

    service.run(queries[0], role="citizen")
    service.run(queries[0], role="data_steward")
    return {"citizen_protected_ms": timed("citizen"), "steward_unprotected_ms": timed("data_steward")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--targets", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="fewer attack queries (a smoke run)")
    parser.add_argument("--utility-only", action="store_true", help="no attacks")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    step = 4 if args.quick else 1
    report: dict[str, Any] = {"people": args.people, "machine": platform.platform(), "settings": {}}
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        service, truth = service_for(base / "default", args.people)
        rules = sdc.SdcRules.of(service.settings.sdc)
        report["settings"] = {"k": rules.k, "count_noise": rules.count_noise, "query_noise": rules.query_noise,
                              "sum_noise": rules.sum_noise, "dominance": [rules.dominance_n, rules.dominance_share]}
        log = _logger()
        rows, errors = cell_key_utility(service, truth)
        report["utility_cell_key"] = {"by_query": rows, "pooled": pooled(rows, errors)}
        log("utility (cell key)")
        report["utility_dp"] = {}
        for epsilon in (0.1, 0.5, 1.0, 2.0):
            dp_rows, dp_errors = dp_utility(truth, epsilon, rules.k, errors)
            report["utility_dp"][str(epsilon)] = {"by_query": dp_rows, "pooled": pooled(dp_rows, dp_errors)}
        log("utility (DP)")
        if args.utility_only:
            print(json.dumps(report, indent=1))
            return
        targets = range(1000, 1000 + args.targets // step)
        report["differencing"] = differencing(service, truth, targets)
        log("differencing")
        quiet, _ = service_for(base / "quiet", args.people, query_noise=0.0)
        report["differencing_without_query_layer"] = differencing(quiet, truth, targets)
        log("differencing without the query layer")
        prior = sum(1 for i, d in truth.execute("SELECT person_id, diagnosis FROM people").fetchall()
                    if d == "diabetes" and i in targets) / len(targets)
        report["differencing_dp"] = [dp_differencing(e, prior, 20_000, seed=35) for e in (0.1, 0.5, 1.0, 2.0)]
        report["averaging_rewordings"] = averaging_rewordings(service, truth, list(range(2000, 2000 + 40 // step)),
                                                              [1, 4, 16, 48])
        log("averaging rewordings")
        report["averaging_partitions"] = averaging_partitions(service, truth, [1, 10, 50, 200 // step], 10 // step + 1)
        log("averaging partitions")
        report["overhead"] = overhead(service, 3)
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


def _logger() -> Callable[[str], None]:
    started = time.perf_counter()
    return lambda what: print(f"[{time.perf_counter() - started:7.1f}s] {what}", file=sys.stderr)


if __name__ == "__main__":
    main()
