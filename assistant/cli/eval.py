"""`govdata eval search|ask|sql|guard`: measure retrieval, answers, text-to-SQL and the guard on JSONL dev sets.

Each command loads what it needs once and calls the same Services use cases as the other shells (with
interface "eval" on their receipts); sql and guard write JSONL line by line so a long run keeps its work.
"""

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.cli.common import JsonOpt, RoleOpt, err, error_text, print_json
from assistant.cli.common import services as build_services
from assistant.policy.roles import DEFAULT_ROLE
from core.errors import GovDataError

eval_app = typer.Typer(help="Measure retrieval and answer quality on JSONL dev sets.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")
    eval_app.command("search")(eval_search)
    eval_app.command("ask")(eval_ask)
    eval_app.command("sql")(eval_sql)
    eval_app.command("guard")(eval_guard)


def eval_search(
    file: Annotated[Path, typer.Argument(help='JSONL lines {"id", "query", "relevant": [identifiers or titles]}.')],
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Cut-off for recall.")] = 10,
    part: Annotated[str, typer.Option("--part", help="Only lines of this part (their `part` field: tune, "
                                                     "held_back).")] = "",
    role: RoleOpt = DEFAULT_ROLE,
    as_json: JsonOpt = False,
) -> None:
    """Dataset search quality: recall@k (with a bootstrap interval), MRR, nDCG@10 for hybrid search, with
    BM25-only and dense-only baselines in the same run, per group and per part; lines with no relevant record
    score whether the search returned nothing; search time p50/p95."""
    from assistant.evaluation import evaluate_search, read_jsonl

    rows = [r for r in read_jsonl(file, ("query", "relevant")) if not part or r.get("part") == part]
    if not rows:
        raise GovDataError(f"{file}: no line has part {part!r}")
    services = build_services(interface="eval")
    fusion = services.settings.retrieval.fusion

    def search(query: str, limit: int, mode: str) -> list[set[str]]:
        results = services.search_datasets(query, k=limit, role=role, fusion=mode)
        return [{r.identifier, r.title} for r in results]

    report = evaluate_search(rows, search, k, dict.fromkeys([fusion, "bm25", "dense"]))
    report["hybrid"] = fusion
    if as_json:
        print_json(report)
        return
    for mode in dict.fromkeys([fusion, "bm25", "dense"]):
        for group, metrics in report[mode].items():
            nested = metrics if group.startswith("part:") else {"": metrics}
            for inner, figures in nested.items():
                label = f"{group}/{inner}" if inner else group
                typer.echo(f"{mode:9} {label:18} " + "  ".join(f"{key} {value}" for key, value in figures.items()))


def eval_ask(
    file: Annotated[Path, typer.Argument(help='JSONL lines {"id", "question", "sources", "must_contain_any", '
                                              '"answerable"}.')],
    role: RoleOpt = DEFAULT_ROLE,
    as_json: JsonOpt = False,
) -> None:
    """Answer quality: cited-right-source rate and key-fact rate on answerable questions, decline rate on
    unanswerable ones. Loads the model once."""
    import time

    from assistant.evaluation import read_jsonl, score_answer, summarize_answers

    rows = read_jsonl(file, ("question",))
    services = build_services(interface="eval")
    verdicts, seconds = [], []
    for n, row in enumerate(rows, 1):
        start = time.perf_counter()
        answer = services.ask(str(row["question"]), role=role)
        seconds.append(time.perf_counter() - start)
        verdicts.append(score_answer(row, answer) | {"answer": answer.answer})
        if sys.stderr.isatty():
            err(f"[{n}/{len(rows)}] {row.get('id', n)} found={answer.found} ({seconds[-1]:.1f}s)")
    report = summarize_answers(verdicts, seconds)
    if as_json:
        print_json(report)
        return
    for key, value in report.items():
        if key != "per_question":
            typer.echo(f"{key}: {value}")


def _read_lines(file: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    from assistant.evaluation import read_jsonl

    return read_jsonl(file, required)


def _resolve_db(value: str, file: Path) -> Path:
    candidate = Path(value).expanduser()
    if candidate.exists() or candidate.is_absolute():
        return candidate
    beside = file.parent / candidate
    return beside if beside.exists() else candidate


def eval_sql(
    file: Annotated[Path, typer.Argument(help='JSONL lines {"id", "question", "db"}.')],
    out: Annotated[Path, typer.Option("--out", help='Where to write {"id", "sql", "columns", "rows", "error"}.')],
    row_cap: Annotated[int, typer.Option("--row-cap", min=1, help="Most rows kept per answer.")] = 10000,
) -> None:
    """Answer every question with SQL on its database; loads the model once and shows progress."""
    rows = _read_lines(file, ("id", "question", "db"))
    svc = build_services(sql_row_cap=row_cap, interface="eval")
    started, failures = time.perf_counter(), 0
    with _Output(out) as write:
        for n, row in enumerate(rows, 1):
            record = _answer_line(svc, row, file)
            failures += record["error"] is not None
            write(record)
            _progress(n, len(rows), str(row["id"]), record["error"], started)
    err(f"wrote {len(rows)} answers to {out} ({failures} with errors) in {time.perf_counter() - started:.0f} s")


def _answer_line(svc: Any, row: dict[str, Any], file: Path) -> dict[str, Any]:
    try:
        answer = svc.sql_ask(str(row["question"]), role=DEFAULT_ROLE, db=_resolve_db(str(row["db"]), file))
    except GovDataError as exc:
        return {"id": row["id"], "sql": "", "columns": [], "rows": [], "error": error_text(exc)}
    return {"id": row["id"], "sql": answer.sql, "columns": answer.columns, "rows": answer.rows,
            "error": answer.error, "explanation": answer.explanation, "attempts": answer.attempts,
            "elapsed_ms": answer.elapsed_ms, "candidates": answer.candidates, "confidence": answer.confidence,
            "uncertain": answer.uncertain}


def eval_guard(
    file: Annotated[Path, typer.Argument(help='JSONL lines {"id", "db", "sql", "approved_tables"?, '
                                              '"denied_columns"?}.')],
    out: Annotated[Path, typer.Option("--out", help='Where to write {"id", "allowed", "reason"}.')],
) -> None:
    """Run the guard over many statements (no model, nothing executed)."""
    rows = _read_lines(file, ("id", "db", "sql"))
    svc = build_services(interface="eval")
    allowed = 0
    with _Output(out) as write:
        for row in rows:
            record = svc.eval_guard_line(row, _resolve_db(str(row["db"]), file), role=DEFAULT_ROLE)
            allowed += bool(record["allowed"])
            write(record)
    err(f"wrote {len(rows)} verdicts to {out}: {allowed} allowed, {len(rows) - allowed} rejected")


class _Output:
    """JSONL written line by line (so a long eval keeps what it did) and moved into place at the end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")

    def __enter__(self) -> Any:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = self.partial.open("w", encoding="utf-8")

        def write(record: dict[str, Any]) -> None:
            self.handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.handle.flush()

        return write

    def __exit__(self, kind: Any, *exc: Any) -> None:
        self.handle.close()
        if kind is None:
            self.partial.replace(self.path)


def _progress(n: int, total: int, item: str, error: str | None, started: float) -> None:
    elapsed = time.perf_counter() - started
    status = "ok" if error is None else "error"
    end = "\r" if sys.stderr.isatty() and n < total else "\n"
    if sys.stderr.isatty() or n % 10 == 0 or n == total:
        sys.stderr.write(f"[{n}/{total}] {item} {status}  {elapsed / n:.1f} s/question{' ' * 10}{end}")
        sys.stderr.flush()
