"""Where the time to a cited answer's first words goes, with the embedded model, through `Services.ask_stream`
(the path the web app and the CLI take: role filter, model gate, receipt).

For each answerable question of --questions: retrieval time, the prompt's tokens and how many of them the model
found already in its cache, time to the first streamed words of the answer (TTFT) and to the finished answer.
Then the same questions as follow-ups (one earlier turn of history, which adds the condensing call), and, with
--interleave, with a SQL-style model call between questions (what a workbench user does between two answers).

Usage: python bench/ask.py [--home DIR | --corpus PATH ...] [--questions eval/policy_dev.jsonl] [--limit N]
       [--follow-ups N] [--interleave] [--out bench/results/ask.json]
Without --home, the corpus is ingested into a temporary home first (data/sample by default). The model is
loaded by a one-token call before the first question; the prompt prefixes are not read ahead (`govdata serve`
reads them at start), so the first question of each language pays for its prefix. `cached_tokens` is what
the context shares with the prompt before the call, not counting a saved prefix put back.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from langchain_core.messages import HumanMessage, SystemMessage  # noqa: E402

from assistant.answer import best_score  # noqa: E402
from assistant.models import Answer  # noqa: E402
from assistant.services import Services  # noqa: E402
from assistant.sql.generate import system_prompt  # noqa: E402
from core.settings import Settings  # noqa: E402
from vectorstore.store import PASSAGES  # noqa: E402

FOLLOW_UPS = {"zh": "那这一条具体是怎么规定的？", "en": "And what exactly does that say?"}


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 2) if values else 0.0


def _prompt_tokens(services: Services, question: str, role: str) -> tuple[int, int]:
    """(tokens in the answer prompt, tokens of it already in the model's cache) for a question."""
    model: Any = services.chat_model
    answerer = services.answerer()
    ranked = answerer.retrieve(question, role)
    if not ranked or best_score(ranked) < services.settings.answer.min_score:
        return 0, 0
    language = "zh" if any("\u4e00" <= c <= "\u9fff" for c in question) else "en"
    tokens = model.prompt_tokens(answerer.messages(question, ranked, language))
    return len(tokens), model.cached_tokens(tokens)


def _sql_style_call(services: Services) -> None:
    """A short model call with another system prompt, as a SQL question makes between two answers."""
    system = SystemMessage(system_prompt())
    services.chat_model.invoke([system, HumanMessage("CREATE TABLE t(a INTEGER);\nQuestion: how many rows?")],
                               max_tokens=16)


def _one(services: Services, question: str, history: list[tuple[str, str]], role: str,
         interleave: bool) -> dict[str, Any]:
    if interleave:
        _sql_style_call(services)
    start = time.perf_counter()
    services.retriever.retrieve(question, k=services.settings.answer.passages, filters=services.filters(role),
                                collection=PASSAGES)
    retrieval = time.perf_counter() - start
    tokens, cached = _prompt_tokens(services, question, role) if not history else (0, 0)
    start = time.perf_counter()
    first: float | None = None
    answer: Answer | None = None
    for event in services.ask_stream(question, role=role, history=history):
        if isinstance(event, Answer):
            answer = event
        elif event and first is None:
            first = time.perf_counter() - start
    total = time.perf_counter() - start
    found = bool(answer and answer.found)
    return {"question": question, "follow_up": bool(history), "retrieval_s": round(retrieval, 3),
            "prompt_tokens": tokens, "cached_tokens": cached, "ttft_s": round(first if first is not None else total, 2),
            "total_s": round(total, 2), "found": found, "streamed": first is not None}


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    answered = [r for r in rows if r["streamed"]]
    return {"questions": len(rows), "streamed": len(answered),
            "ttft_s_median": _median([r["ttft_s"] for r in answered]),
            "ttft_s_max": max((r["ttft_s"] for r in answered), default=0.0),
            "total_s_median": _median([r["total_s"] for r in answered]),
            "prompt_tokens_median": _median([r["prompt_tokens"] for r in answered if r["prompt_tokens"]]),
            "cached_tokens_median": _median([r["cached_tokens"] for r in answered if r["prompt_tokens"]]),
            "retrieval_s_median": _median([r["retrieval_s"] for r in rows])}


def run(services: Services, questions: list[str], follow_ups: int, interleave: bool, role: str) -> dict[str, Any]:
    start = time.perf_counter()
    services.chat_model.invoke("warm up", max_tokens=1)
    load_s = time.perf_counter() - start
    first_rows = [_one(services, q, [], role, interleave) for q in questions]
    follow_rows = []
    for q in questions[:follow_ups]:
        language = "zh" if any("\u4e00" <= c <= "\u9fff" for c in q) else "en"
        follow_rows.append(_one(services, FOLLOW_UPS[language], [(q, "(earlier answer)")], role, interleave))
    return {"model_load_s": round(load_s, 2), "first_questions": _summary(first_rows),
            "follow_ups": _summary(follow_rows), "rows": first_rows + follow_rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, help="an existing GOVDATA_HOME with the corpus already ingested")
    parser.add_argument("--corpus", type=Path, nargs="*", default=[Path("data/sample")])
    parser.add_argument("--questions", type=Path, default=Path("eval/policy_dev.jsonl"))
    parser.add_argument("--limit", type=int, default=0, help="at most this many questions (0: all answerable)")
    parser.add_argument("--follow-ups", type=int, default=4)
    parser.add_argument("--interleave", action="store_true")
    parser.add_argument("--role", default="civil_servant")
    parser.add_argument("--out", type=Path, default=Path("bench/results/ask.json"))
    args = parser.parse_args()
    lines = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [item["question"] for item in lines if item.get("answerable", True)]
    questions = questions[: args.limit] if args.limit else questions
    with tempfile.TemporaryDirectory() as scratch:
        home = args.home or Path(scratch)
        services = Services(Settings(home=home))
        if args.home is None:
            services.ingest(args.corpus)
        report = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                  "command": " ".join(sys.argv), "home": str(home), "interleave": args.interleave,
                  **run(services, questions, args.follow_ups, args.interleave, args.role)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "rows"}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
