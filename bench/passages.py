"""Which passages a grounded answer reads, without the model (issue 29): for each question of a policy dev set,
the passages `govdata ask` would hand the model, scored by whether a right law is among them, first, and whether
the right article is among them; per group (en-en, en-zh, zh-en, zh-zh) and part (tune / held_back).

The retrieval is the product's own (`Services.answerer().retrieve`, the role's filters, the answer settings), so
any GOVDATA_ANSWER__ / GOVDATA_RETRIEVAL__ setting in the environment is what is measured; a run takes seconds per
question, not the model's tens, so rerank variants can be compared on a whole part in one sitting.

Usage: GOVDATA_HOME=H python bench/passages.py [--questions eval/policy_dev_v2.jsonl] [--part tune]
       [--role civil_servant] [--out bench/results/passages.json]
"""

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.evaluation import wilson  # noqa: E402
from assistant.services import Services  # noqa: E402
from core.settings import Settings  # noqa: E402


def _right(payload: dict[str, Any], wanted: list[str]) -> bool:
    names = (str(payload.get("source", "")), str(payload.get("title", "")))
    return any(w and any(w.lower() in n.lower() for n in names) for w in wanted)


def judge(row: dict[str, Any], ranked: list[Any], min_score: float) -> dict[str, Any]:
    """One question's verdicts from the passages the model would read."""
    laws = [_right(r.hit.payload, row.get("sources", [])) for r in ranked]
    articles = row.get("articles", [])
    article_hit = any(law and any(a and a in (r.hit.document or "") for a in articles)
                      for law, r in zip(laws, ranked, strict=True))
    best = max(r.score for r in ranked) if ranked else 0.0
    return {"id": row["id"], "group": row.get("group", ""), "part": row.get("part", "all"),
            "answerable": bool(row.get("answerable", True)), "best_score": round(best, 4),
            "would_answer": best >= min_score,
            "top_language": str(ranked[0].hit.payload.get("language", "")) if ranked else "",
            "law_among": any(laws), "law_first": bool(laws and laws[0]),
            "article_among": article_hit,
            "sources": [str(r.hit.payload.get("title", "")) + " " + str(r.hit.payload.get("article", ""))
                        for r in ranked]}


def summary(verdicts: list[dict[str, Any]]) -> dict[str, Any]:
    """Rates with intervals over answerable questions; decline/answer rates over both kinds."""
    answerable = [v for v in verdicts if v["answerable"]]
    out: dict[str, Any] = {"n": len(answerable)}
    for key in ("law_among", "law_first", "article_among"):
        hits = sum(v[key] for v in answerable)
        out[key] = {"hits": hits, "rate": round(hits / len(answerable), 3) if answerable else None,
                    "interval": wilson(hits, len(answerable))}
    out["false_declines"] = sum(not v["would_answer"] for v in answerable)
    unanswerable = [v for v in verdicts if not v["answerable"]]
    out["unanswerable"] = len(unanswerable)
    out["unanswerable_declined"] = sum(not v["would_answer"] for v in unanswerable)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", default="eval/policy_dev_v2.jsonl")
    parser.add_argument("--part", default="tune", help="tune, held_back or all")
    parser.add_argument("--role", default="civil_servant")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    rows = [json.loads(line) for line in Path(args.questions).read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if args.part == "all" or r.get("part") == args.part]
    services = Services(Settings())
    answerer = services.answerer()
    answerer.retrieve("warm up", args.role)
    verdicts, seconds = [], []
    for row in rows:
        started = time.perf_counter()
        ranked = answerer.retrieve(row["question"], args.role)
        seconds.append(time.perf_counter() - started)
        verdicts.append(judge(row, ranked, services.settings.answer.min_score))
    groups = sorted({v["group"] for v in verdicts if v["answerable"]})
    report = {"machine": f"{platform.machine()}, {platform.python_version()}", "questions": args.questions,
              "part": args.part, "role": args.role,
              "settings": {"answer": services.settings.answer.model_dump(),
                           "retrieval": services.settings.retrieval.model_dump()},
              "all": summary(verdicts), **{g: summary([v for v in verdicts if v["group"] == g]) for g in groups},
              "seconds_median": round(sorted(seconds)[len(seconds) // 2], 3), "per_question": verdicts}
    for name in ("all", *groups):
        s = report[name]
        print(f"{name:6} n={s['n']:3}  law among {s['law_among']['rate']}  law first {s['law_first']['rate']}  "
              f"article among {s['article_among']['rate']}  false declines {s['false_declines']}  "
              f"unanswerable declined {s['unanswerable_declined']}/{s['unanswerable']}")
    print(f"retrieval median {report['seconds_median']} s")
    if args.out:
        Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
