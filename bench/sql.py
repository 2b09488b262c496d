"""Text-to-SQL benchmark: execution accuracy (EX) of `govdata sql ask` and of LangChain's
`create_sql_query_chain` with the same chat model, English and Chinese, on a Spider-format split.

    python bench/sql.py --split ../shared/data/text2sql/spider_dev_split --per-db 6 --out bench/results/sql.json

Gold SQL runs on the SQLite file with Python's sqlite3. Ours runs through the guard on DuckDB (a copy of the
SQLite data); LangChain's SQL runs on the SQLite file itself (its native engine), so it is not penalised for
dialect. Rows are compared as multisets, in order only when the gold SQL orders them.
"""

import argparse
import json
import os
import platform
import re
import sqlite3
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.config import Settings  # noqa: E402
from assistant.evaluation import gold_is_ordered, rows_match  # noqa: E402
from assistant.services import Services  # noqa: E402


def load_questions(split: Path, per_db: int, dbs: set[str] | None) -> list[dict[str, Any]]:
    """Up to per_db questions of each database, spread evenly over its questions (0 = all)."""
    by_db: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in (split / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if dbs is None or row["db_id"] in dbs:
            by_db[row["db_id"]].append(row)
    chosen = []
    for rows in by_db.values():
        step = max(1, len(rows) // per_db) if per_db else 1
        chosen.extend(rows[::step][: per_db or None])
    return chosen


def sqlite_rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    con.text_factory = lambda b: b.decode("utf-8", errors="replace")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def ours(services: Services, question: str, database: Path) -> tuple[list[Any] | None, str]:
    answer = services.sql.ask(question, role="citizen", db=database)
    return (None if answer.error else answer.rows), answer.sql


_FENCE = re.compile(r"```(?:sql)?\s*(.*?)```", re.S)


def clean_langchain_sql(text: str) -> str:
    """create_sql_query_chain returns text after 'SQLQuery:'; small models add fences or a trailing result."""
    fenced = _FENCE.search(text)
    text = fenced.group(1) if fenced else text
    text = text.split("SQLQuery:")[-1]
    text = text.split("SQLResult:")[0]
    return text.strip().rstrip(";").strip()


class LangChainBaseline:
    def __init__(self, chat_model: Any) -> None:
        self.chat_model = chat_model
        self.chains: dict[Path, Any] = {}

    def chain(self, database: Path) -> Any:
        if database not in self.chains:
            from langchain_classic.chains import create_sql_query_chain
            from langchain_community.utilities import SQLDatabase

            db = SQLDatabase.from_uri(f"sqlite:///{database}", sample_rows_in_table_info=3)
            self.chains[database] = create_sql_query_chain(self.chat_model, db)
        return self.chains[database]

    def __call__(self, question: str, database: Path) -> tuple[list[Any] | None, str]:
        sql = clean_langchain_sql(str(self.chain(database).invoke({"question": question})))
        try:
            return [list(r) for r in sqlite_rows(database, sql)], sql
        except sqlite3.Error:
            return None, sql


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(sql={"row_cap": 100_000})  # type: ignore[arg-type]
    services = Services(settings)
    systems = {"govdata": lambda q, d: ours(services, q, d)}
    if "langchain" in args.systems:
        systems["langchain"] = LangChainBaseline(services.chat_model)
    questions = load_questions(args.split, args.per_db, set(args.dbs.split(",")) if args.dbs else None)
    gold = {row["id"]: _gold(args.split, row) for row in questions}
    per_item, scores = [], defaultdict(list)
    seconds: dict[str, list[float]] = defaultdict(list)
    # one system and language at a time, questions grouped by database: the model's prompt cache stays warm
    for name in args.systems.split(","):
        for language in args.languages.split(","):
            for n, row in enumerate(questions, 1):
                database = _database(args.split, row)
                question = row["question"] if language == "en" else row["question_zh"]
                started = time.perf_counter()
                rows, sql = systems[name](question, database)
                seconds[name].append(time.perf_counter() - started)
                gold_rows, ordered = gold[row["id"]]
                correct = rows is not None and rows_match(gold_rows, rows, ordered)
                scores[(name, language)].append(correct)
                per_item.append({"id": row["id"], "db": row["db_id"], "language": language, "system": name,
                                 "correct": correct, "sql": sql, "seconds": round(seconds[name][-1], 2),
                                 "question": question, "gold": row["gold_sql"]})
                if args.out:
                    with args.out.with_suffix(".partial.jsonl").open("a", encoding="utf-8") as log:
                        log.write(json.dumps(per_item[-1], ensure_ascii=False) + "\n")
                ex = sum(scores[(name, language)]) / n
                print(f"[{name}/{language} {n}/{len(questions)}] {row['id']} EX so far {ex:.3f}",
                      file=sys.stderr, flush=True)
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "questions": len(questions), "databases": sorted({q["db_id"] for q in questions}),
        "ex": {f"{k[0]}/{k[1]}": round(sum(v) / len(v), 3) for k, v in scores.items()},
        "seconds_per_question": {k: round(statistics.mean(v), 2) for k, v in seconds.items()},
        "per_item": per_item,
    }


def _database(split: Path, row: dict[str, Any]) -> Path:
    return split / "database" / row["db_id"] / f"{row['db_id']}.sqlite"


def _gold(split: Path, row: dict[str, Any]) -> tuple[list[list[Any]], bool]:
    rows = [list(r) for r in sqlite_rows(_database(split, row), row["gold_sql"])]
    return rows, gold_is_ordered(row["gold_sql"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", type=Path, default=Path("../shared/data/text2sql/spider_dev_split"))
    parser.add_argument("--per-db", type=int, default=6, help="Questions per database (0 = all).")
    parser.add_argument("--dbs", default="", help="Comma-separated db_ids (default all).")
    parser.add_argument("--languages", default="en,zh")
    parser.add_argument("--systems", default="govdata,langchain")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    report = run(args)
    summary = {k: v for k, v in report.items() if k != "per_item"}
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
