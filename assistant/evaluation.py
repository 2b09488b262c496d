"""`govdata eval ...`: retrieval and answer quality on JSONL dev sets, with baselines in the same run."""

import json
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from core.errors import GovDataError


def read_jsonl(path: Path, required: Iterable[str]) -> list[dict[str, Any]]:
    """Lines of a JSONL file, each checked for the required fields; errors name the file and line."""
    if not path.is_file():
        raise GovDataError(f"{path}: no such file")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GovDataError(f"{path}:{number}: invalid JSON: {exc.msg}") from None
        missing = [field for field in required if field not in row]
        if not isinstance(row, dict) or missing:
            raise GovDataError(f"{path}:{number}: missing field(s) {missing or 'all'}")
        rows.append(row)
    if not rows:
        raise GovDataError(f"{path}: no lines to evaluate")
    return rows


def ranking_metrics(ranked_keys: list[set[str]], relevant: set[str], k: int) -> dict[str, float]:
    """Capped recall@k (found / min(relevant, k)), reciprocal rank within k, binary nDCG@10. A relevant name
    counts once, however many results carry it (the same title can sit in two catalogs)."""
    matched: set[str] = set()
    hits = []
    for keys in ranked_keys:
        new = (keys & relevant) - matched
        hits.append(bool(new))
        matched |= new
    found = sum(hits[:k])
    first = next((rank for rank, hit in enumerate(hits[:k], 1) if hit), None)
    dcg = sum(1 / math.log2(rank + 1) for rank, hit in enumerate(hits[:10], 1) if hit)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(relevant), 10) + 1))
    return {
        f"recall@{k}": found / min(len(relevant), k),
        "mrr": 1 / first if first else 0.0,
        "ndcg@10": dcg / ideal if ideal else 0.0,
    }


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(sum(r[key] for r in rows) / len(rows), 4) for key in rows[0]}


def wilson(correct: int, total: int, z: float = 1.96) -> list[float]:
    """The 95% Wilson score interval of a proportion (honest at small n and near 0 or 1)."""
    if total == 0:
        return [0.0, 0.0]
    p = correct / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return [round(max(0.0, centre - half), 3), round(min(1.0, centre + half), 3)]


def bootstrap_interval(values: list[float], rounds: int = 2000, seed: int = 28) -> list[float]:
    """The 95% percentile-bootstrap interval of a mean (fixed seed, so a report is reproducible)."""
    import random

    if not values:
        return [0.0, 0.0]
    rng, n = random.Random(seed), len(values)
    means = sorted(sum(rng.choice(values) for _ in range(n)) / n for _ in range(rounds))
    return [round(means[int(0.025 * rounds)], 3), round(means[int(0.975 * rounds) - 1], 3)]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 4) if ordered else 0.0


def _summary(rows: list[dict[str, Any]], k: int) -> dict[str, Any]:
    """One group's figures: ranking metrics of its answerable queries (with the recall interval), how often a
    query no record answers got no result (`nothing`), how often an answerable one got none (`false_nothing`),
    and the search time p50/p95 in seconds."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    out: dict[str, Any] = {"queries": len(rows)}
    if answerable:
        out |= _mean([r["metrics"] for r in answerable])
        out[f"recall@{k}_ci95"] = bootstrap_interval([r["metrics"][f"recall@{k}"] for r in answerable])
        out["false_nothing"] = round(sum(r["empty"] for r in answerable) / len(answerable), 4)
    if unanswerable:
        out["nothing"] = round(sum(r["empty"] for r in unanswerable) / len(unanswerable), 4)
        out["nothing_ci95"] = bootstrap_interval([float(r["empty"]) for r in unanswerable])
    seconds = [r["seconds"] for r in rows]
    out |= {"p50_s": _percentile(seconds, 0.5), "p95_s": _percentile(seconds, 0.95)}
    return out


def evaluate_search(rows: list[dict[str, Any]], search: Callable[[str, int, str], list[set[str]]], k: int,
                    modes: Iterable[str]) -> dict[str, Any]:
    """Metrics per retrieval mode, overall, per query group and per part (tune / held_back, when the lines say);
    `search(query, k, mode)` returns, per result, the set of names it can be matched by (identifier, title). A
    line with no relevant record is a need nothing answers: it scores whether the search returned nothing."""
    import time

    report: dict[str, Any] = {"queries": len(rows), "k": k}
    per_query: dict[str, list[dict[str, Any]]] = {}
    for mode in modes:
        scored: list[dict[str, Any]] = []
        for row in rows:
            started = time.perf_counter()
            found = search(row["query"], max(k, 10), mode)
            relevant = set(row["relevant"])
            scored.append({"id": row.get("id"), "group": str(row.get("group", "all")),
                           "part": str(row.get("part", "all")), "answerable": bool(relevant), "empty": not found,
                           "seconds": time.perf_counter() - started,
                           "metrics": ranking_metrics(found, relevant, k) if relevant else {}})
        groups = sorted({r["group"] for r in scored})
        parts = sorted({r["part"] for r in scored} - {"all"})
        report[mode] = {"all": _summary(scored, k), **{g: _summary([r for r in scored if r["group"] == g], k)
                                                        for g in groups}}
        for part in parts:
            inside = [r for r in scored if r["part"] == part]
            report[mode][f"part:{part}"] = {"all": _summary(inside, k), **{
                g: _summary([r for r in inside if r["group"] == g], k) for g in groups if any(
                    r["group"] == g for r in inside)}}
        per_query[mode] = [{"id": r["id"], "empty": r["empty"], **{m: round(v, 4) for m, v in r["metrics"].items()}}
                           for r in scored]
    report["per_query"] = per_query
    return report


def _matches_source(citation: Any, wanted: Iterable[str]) -> bool:
    names = (str(citation.source), str(citation.title))
    return any(w and any(w.lower() in n.lower() for n in names) for w in wanted)


def score_answer(row: dict[str, Any], answer: Any) -> dict[str, Any]:
    """Per-question verdicts for `eval ask`."""
    answerable = bool(row.get("answerable", True))
    text = str(answer.answer).lower()
    return {
        "id": row.get("id"), "answerable": answerable, "found": answer.found,
        "cited_right_source": answerable and any(_matches_source(c, row.get("sources", [])) for c in answer.citations),
        "key_fact": answerable and any(str(f).lower() in text for f in row.get("must_contain_any", [])),
        "declined": not answer.found,
        "best_score": getattr(answer, "best_score", None),  # lets a higher min_score be read off one run
    }


def summarize_answers(verdicts: list[dict[str, Any]], seconds: list[float]) -> dict[str, Any]:
    answerable = [v for v in verdicts if v["answerable"]]
    unanswerable = [v for v in verdicts if not v["answerable"]]

    def rate(rows: list[dict[str, Any]], key: str) -> float | None:
        return round(sum(bool(r[key]) for r in rows) / len(rows), 4) if rows else None

    return {
        "questions": len(verdicts), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "cited_right_source_rate": rate(answerable, "cited_right_source"),
        "key_fact_rate": rate(answerable, "key_fact"),
        "decline_rate_unanswerable": rate(unanswerable, "declined"),
        "false_decline_rate_answerable": rate(answerable, "declined"),
        "seconds_per_question": round(sum(seconds) / len(seconds), 2) if seconds else None,
        "per_question": verdicts,
    }


def _cell(value: Any) -> Any:
    """A result cell in comparable form: 3 == 3.0, floats to 4 places, bools as ints."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        value = round(value, 4)
        return int(value) if value.is_integer() else value
    return value


def rows_match(gold: list[Any], predicted: list[Any], ordered: bool) -> bool:
    """Execution match as Spider's evaluation scores it: the same rows (as multisets, or in order when the
    gold query orders them) under some order of the columns."""
    gold_rows = [tuple(_cell(v) for v in row) for row in gold]
    predicted_rows = [tuple(_cell(v) for v in row) for row in predicted]
    if len(gold_rows) != len(predicted_rows):
        return False
    if not gold_rows:
        return True
    width = len(gold_rows[0])
    if any(len(row) != width for row in predicted_rows):
        return False
    for order in _column_orders(gold_rows, predicted_rows, width):
        permuted = [tuple(row[i] for i in order) for row in predicted_rows]
        if _same_rows(gold_rows, permuted, ordered):
            return True
    return False


def _same_rows(gold: list[tuple[Any, ...]], predicted: list[tuple[Any, ...]], ordered: bool) -> bool:
    if ordered:
        return [repr(r) for r in gold] == [repr(r) for r in predicted]
    from collections import Counter

    return Counter(map(repr, gold)) == Counter(map(repr, predicted))


def _column_orders(gold: list[tuple[Any, ...]], predicted: list[tuple[Any, ...]], width: int) -> list[tuple[int, ...]]:
    """Column orders worth trying: each gold column only against predicted columns with the same values."""
    from collections import Counter
    from itertools import product

    gold_values = [Counter(repr(r[i]) for r in gold) for i in range(width)]
    predicted_values = [Counter(repr(r[j]) for r in predicted) for j in range(width)]
    candidates = [[j for j in range(width) if predicted_values[j] == gold_values[i]] for i in range(width)]
    if any(not c for c in candidates):
        return []
    if width > 6:
        return [tuple(range(width))]
    orders = [o for o in product(*candidates) if len(set(o)) == width]
    return orders[:720] or [tuple(range(width))]


def gold_is_ordered(sql: str) -> bool:
    """Whether the outermost gold query has ORDER BY (then order counts)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
    except sqlglot.errors.ParseError:
        return "order by" in sql.lower()
    return isinstance(tree, exp.Query) and tree.args.get("order") is not None
