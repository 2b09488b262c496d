"""Text-to-SQL benchmark: execution accuracy (EX) of `govdata sql ask` and of LangChain's
`create_sql_query_chain` with the same chat model, English and Chinese, on a Spider-format split.

    python bench/sql.py --split ../shared/data/text2sql/spider_dev_split --per-db 6 --out bench/results/sql.json
    python bench/sql.py --per-db 0 --candidates 3 --systems govdata --out bench/results/sql-n3.json --resume
    python bench/sql.py --compare BEFORE.json AFTER.json     # paired: questions gained and lost
    python bench/sql.py --per-db 0 --db-part held_back --systems plain,govdata,langchain --out F   # issue 27
    python bench/sql.py --per-db 0 --db-part held_back --systems govdata --set fixups=false --out F  # ablation

Knowledge (issue 32): `--knowledge half` groups each database's questions by gold SQL, imports the questions of
half the groups with their gold SQL as approved pairs for that database (`govdata knowledge import --db`, through
the guard and the engine: pairs that do not run on DuckDB are refused and counted), and asks the other half twice
in the same run, as `govdata` (nothing taught: GOVDATA_SQL__KNOWLEDGE_TOKENS=0) and `govdata+knowledge`, so no
asked question's SQL is among the taught ones; the report pairs the two per question (gained, lost, the gain with
a bootstrap interval):

    python bench/sql.py --knowledge half --db-part held_back --dbs pets_1,employee_hire_evaluation --per-db 0 \
        --languages en --systems govdata --out bench/results/sql32-knowledge.json

`--per-db 0` takes the whole split. Every answered question is appended to OUT.partial.jsonl as it finishes,
and `--resume` skips the ones already there, so a full-split run can span several sessions. The report gives
EX with a 95% Wilson interval per system and language, for the whole run and for three parts: `tuned` (the 30
questions the prompts were tuned on), `held_out` (a fixed fifth of the other questions, by a hash of their id,
never to be looked at while tuning) and `rest`; per database; and the wrong answers by error class.

Databases are split too (issue 27): `held_back` databases (a third, chosen by a hash of the name, and the messy
split's own held-out databases) are reported apart from the `tuning` ones and are never looked at while
deciding. Systems: `govdata` (the product, with `--set KEY=VALUE` overriding its GOVDATA_SQL__ settings for an
ablation), `plain` (the simplest strong baseline: CREATE TABLE statements with three rows each, the question,
"reply with one SQLite query") and `langchain` (create_sql_query_chain), all with the same chat model.

Gold SQL runs on the SQLite file with Python's sqlite3. Ours runs through the guard on DuckDB (a copy of the
SQLite data); LangChain's and the plain prompt's SQL run on the SQLite file itself (their native engine), so they are
not penalised for dialect. Rows are compared as multisets, in order only when the gold SQL orders them.
"""

import argparse
import hashlib
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

from assistant.evaluation import bootstrap_interval, gold_is_ordered, rows_match, wilson  # noqa: E402
from assistant.llm.replies import code_in_text, sql_in_text  # noqa: E402
from assistant.services import Services  # noqa: E402
from assistant.sql.generate import vote  # noqa: E402
from core.settings import Settings  # noqa: E402


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


def build_databases(split: Path) -> None:
    """A split that is built from source files (eval/sql_messy) carries a build.py: run it (it skips what exists)."""
    builder = split / "build.py"
    if builder.is_file():
        import subprocess

        subprocess.run([sys.executable, str(builder)], check=True, stdout=subprocess.DEVNULL)


def sqlite_rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    con.text_factory = lambda b: b.decode("utf-8", errors="replace")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def ours(services: Services, question: str, database: Path) -> dict[str, Any]:
    """{"rows" (None when no query ran), "sql", "error", "trace": each candidate's result and seconds (N > 1)}."""
    answer = services.sql.ask(question, role="citizen", db=database)
    trace = [{"key": t["key"], "rows": t["rows"], "seconds": t["seconds"]} for t in answer.trace]
    return {"rows": None if answer.error else answer.rows, "sql": answer.sql, "error": answer.error, "trace": trace,
            "knowledge": answer.knowledge}


# The questions of the first tuning sample (bench/results/sql.json at --per-db 3): seen while writing prompts.
TUNED_RESULTS = Path(__file__).resolve().parent / "results" / "sql.json"


def part_of(question_id: str, tuned: set[str], row: dict[str, Any] | None = None) -> str:
    """tuned | held_out | rest: a split may name each question's part (the messy split holds out whole
    databases); otherwise held_out is a fixed fifth of the untuned questions, never to be tuned on."""
    if row is not None and row.get("part"):
        return str(row["part"])
    if question_id in tuned:
        return "tuned"
    return "held_out" if int(hashlib.sha1(question_id.encode()).hexdigest(), 16) % 5 == 0 else "rest"


def tuned_ids() -> set[str]:
    if not TUNED_RESULTS.is_file():
        return set()
    return {item["id"] for item in json.loads(TUNED_RESULTS.read_text(encoding="utf-8")).get("per_item", [])}


# Held-back databases (issue 27): a third of the Spider databases by a hash of the name (sha1 % 3 == 0), and the
# messy split's held-out databases. Their questions are never read while deciding what to keep.
HELD_BACK_DBS = frozenset({"pets_1", "employee_hire_evaluation", "course_teach", "battle_death", "vega_misc",
                           "tw_portals"})


def db_part_of(db_id: str) -> str:
    return "held_back" if db_id in HELD_BACK_DBS else "tuning"


ROW_CAP = re.compile(r"\s+LIMIT\s+\d{5,}\s*;?\s*$")  # the runner's row cap, not a LIMIT the question asked for


def error_class(item: dict[str, Any]) -> str:
    """Why an answer was wrong, from the two SQL texts (a coarse, stated heuristic)."""
    sql, gold = ROW_CAP.sub("", item["sql"].upper()), item["gold"].upper()
    if not item.get("ran", True):
        return "no query ran (guard or engine error)"
    for word in ("INTERSECT", "EXCEPT", "UNION"):
        if word in gold and word not in sql:
            return f"set operation missing ({word})"
    if gold.count("JOIN") != sql.count("JOIN"):
        return "different joins"
    if ("GROUP BY" in gold) != ("GROUP BY" in sql):
        return "grouping differs"
    if ("ORDER BY" in gold) != ("ORDER BY" in sql) or ("LIMIT" in gold) != ("LIMIT" in sql):
        return "ordering or limit differs"
    return "wrong values or filter"


# An answer that says the question cannot be answered (every Spider and messy question can be): a false decline.
DECLINES = ("cannot be answered", "not available to your role")


def summarize(per_item: list[dict[str, Any]]) -> dict[str, Any]:
    """EX with intervals by system/language, by part, by database, and wrong answers by error class."""
    def ex(items: list[dict[str, Any]]) -> dict[str, Any]:
        right = sum(bool(i["correct"]) for i in items)
        return {"n": len(items), "ex": round(right / len(items), 3) if items else None,
                "ci95": wilson(right, len(items))}

    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in per_item:
        groups[f"{item['system']}/{item['language']}"].append(item)
    report: dict[str, Any] = {}
    for key, items in sorted(groups.items()):
        parts = {part: ex([i for i in items if i["part"] == part]) for part in ("tuned", "held_out", "rest")}
        parts |= {part: ex([i for i in items if db_part_of(i["db"]) == part]) for part in ("tuning", "held_back")}
        databases = {db: ex([i for i in items if i["db"] == db]) for db in sorted({i["db"] for i in items})}
        wrong = defaultdict(int)
        for item in items:
            if not item["correct"]:
                wrong[error_class(item)] += 1
        seconds = sorted(i["seconds"] for i in items)
        declined = sum(str(i.get("error", "")).startswith(DECLINES) for i in items)
        report[key] = {**ex(items), "parts": parts, "databases": databases,
                       "declined": {"n": declined, "rate": round(declined / len(items), 3) if items else None},
                       "errors": dict(sorted(wrong.items(), key=lambda kv: -kv[1])),
                       "median_seconds": seconds[len(seconds) // 2] if seconds else None}
        if any("trace" in i for i in items):
            report[key]["by_candidates"] = by_candidates(items, ex)
    return report


def first_k(item: dict[str, Any], k: int) -> tuple[bool, float]:
    """Whether the answer would have been right, and its seconds, had only the first k of the recorded
    candidates been written: the product's own vote over them. The candidates are seeded, so the first k of
    an N-candidate run are the candidates of a k-candidate run. A question whose first query failed never
    voted: the same outcome and time for every k."""
    trace = item.get("trace")
    if not trace:
        return bool(item["correct"]), float(item["seconds"])
    groups = vote([t["key"] for t in trace[:k]])
    right = bool(groups) and bool(trace[groups[0][0]]["correct"])
    return right, sum(t["seconds"] for t in trace[:k])


def by_candidates(items: list[dict[str, Any]], ex: Any) -> dict[str, Any]:
    """EX and seconds per question for k = 1, 3, 5, 8 candidates (k up to the N the run wrote), per part."""
    most = max(int(i.get("candidates", 1)) for i in items)
    out: dict[str, Any] = {}
    for k in (n for n in (1, 3, 5, 8) if n <= most):
        scored = [{**i, "correct": first_k(i, k)[0], "seconds": first_k(i, k)[1]} for i in items]
        seconds = sorted(i["seconds"] for i in scored)
        out[str(k)] = {**ex(scored), "median_seconds": round(seconds[len(seconds) // 2], 2),
                       "mean_seconds": round(statistics.mean(seconds), 2),
                       "parts": {p: ex([i for i in scored if i["part"] == p]) for p in ("tuned", "held_out", "rest")}}
    return out


def clean_langchain_sql(text: str) -> str:
    """create_sql_query_chain returns text after 'SQLQuery:'; small models add fences or a trailing result."""
    text = code_in_text(text).split("SQLQuery:")[-1]
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

    def __call__(self, question: str, database: Path) -> dict[str, Any]:
        sql = clean_langchain_sql(str(self.chain(database).invoke({"question": question})))
        try:
            return {"rows": [list(r) for r in sqlite_rows(database, sql)], "sql": sql, "error": None, "trace": []}
        except sqlite3.Error as exc:
            return {"rows": None, "sql": sql, "error": f"SQLite error: {exc}", "trace": []}


PLAIN_INSTRUCTION = "Reply with one SQLite query that answers the question, and nothing else."


def plain_schema(database: Path, rows: int = 3) -> str:
    """Every table's CREATE TABLE statement with its first `rows` rows, as the plain prompt shows them."""
    con = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    con.text_factory = lambda b: b.decode("utf-8", errors="replace")
    try:
        parts = []
        for name, ddl in con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL "
                                     "AND name NOT LIKE 'sqlite_%' ORDER BY rowid").fetchall():
            cursor = con.execute(f'SELECT * FROM "{name}" LIMIT {rows}')
            header = "\t".join(d[0] for d in cursor.description)
            sample = "\n".join("\t".join(str(v) for v in row) for row in cursor.fetchall())
            parts.append(f"{ddl.strip()}\n/*\n{rows} rows from {name} table:\n{header}\n{sample}\n*/")
        return "\n\n".join(parts)
    finally:
        con.close()


class PlainPrompt:
    """The simplest strong baseline (issue 27): DDL with three rows per table, the question, one instruction;
    one model call at the model's default (temperature 0), its SQL run on the SQLite file."""

    def __init__(self, chat_model: Any) -> None:
        self.chat_model = chat_model
        self.schemas: dict[Path, str] = {}

    def __call__(self, question: str, database: Path) -> dict[str, Any]:
        from langchain_core.messages import HumanMessage

        if database not in self.schemas:
            self.schemas[database] = plain_schema(database)
        prompt = f"{self.schemas[database]}\n\nQuestion: {question}\n{PLAIN_INSTRUCTION}"
        sql = sql_in_text(str(self.chat_model.invoke([HumanMessage(prompt)], max_tokens=400).content))
        try:
            return {"rows": [list(r) for r in sqlite_rows(database, sql)], "sql": sql, "error": None, "trace": []}
        except sqlite3.Error as exc:
            return {"rows": None, "sql": sql, "error": f"SQLite error: {exc}", "trace": []}


def overrides(pairs: list[str]) -> dict[str, Any]:
    """--set KEY=VALUE pairs as GOVDATA_SQL__ settings (true/false, numbers, text)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        low = value.strip().lower()
        out[key.strip()] = (low == "true") if low in ("true", "false") else (
            float(value) if re.fullmatch(r"-?\d+\.\d*", value) else int(value) if value.strip().isdigit() else value)
    return out


def gold_key(sql: str) -> str:
    """Gold SQL as the knowledge split groups it: case, spacing and a final semicolon do not count."""
    return re.sub(r"\s+", " ", sql).strip().rstrip(";").strip().lower()


def knowledge_split(questions: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(taught, asked): per database, the questions grouped by gold SQL, the groups ordered by a hash of the
    database and the SQL, every other group taught (its questions and SQL imported as pairs), the rest asked."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in questions:
        groups[(row["db_id"], gold_key(row["gold_sql"]))].append(row)
    taught: list[dict[str, Any]] = []
    asked: list[dict[str, Any]] = []
    for db in sorted({db for db, _ in groups}):
        keys = sorted((k for k in groups if k[0] == db), key=lambda k: hashlib.sha1("\n".join(k).encode()).hexdigest())
        for n, key in enumerate(keys):
            (taught if n % 2 == 0 else asked).extend(groups[key])
    order = {row["id"]: n for n, row in enumerate(questions)}
    return sorted(taught, key=lambda r: order[r["id"]]), sorted(asked, key=lambda r: order[r["id"]])


def teach(services: Services, split: Path, taught: list[dict[str, Any]], languages: list[str],
          folder: Path) -> dict[str, Any]:
    """Import the taught questions (each language asked) with their gold SQL, per database, as a steward would:
    `knowledge_import(FILE, db=DB)`. What was imported and refused, per database."""
    report: dict[str, Any] = {}
    for db in sorted({row["db_id"] for row in taught}):
        rows = [row for row in taught if row["db_id"] == db]
        lines = [json.dumps({"question": row["question"] if lang == "en" else row["question_zh"],
                             "sql": row["gold_sql"]}, ensure_ascii=False) for row in rows for lang in languages]
        path = folder / f"{db}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        result = services.knowledge_import(path, db=_database(split, rows[0]), role="data_steward", user="bench")
        report[db] = {"lines": len(lines), "imported": result.imported,
                      "refused": [{"line": r["line"], "reason": r["reason"][:200]} for r in result.refused]}
        print(f"[knowledge] {db}: imported {result.imported} of {len(lines)}", file=sys.stderr, flush=True)
    return report


def knowledge_gain(per_item: list[dict[str, Any]]) -> dict[str, Any]:
    """Per language: the same questions without and with knowledge, EX with Wilson intervals each, the questions
    gained and lost, and the paired gain with a bootstrap interval over questions."""
    out: dict[str, Any] = {}
    for language in sorted({i["language"] for i in per_item}):
        without = {i["id"]: bool(i["correct"]) for i in per_item if i["language"] == language
                   and i["system"] == "govdata"}
        taught = {i["id"]: bool(i["correct"]) for i in per_item if i["language"] == language
                  and i["system"] == "govdata+knowledge"}
        both = sorted(set(without) & set(taught))
        n, before, after = len(both), sum(without[q] for q in both), sum(taught[q] for q in both)
        gains = [float(taught[q]) - float(without[q]) for q in both]
        out[language] = {"n": n, "without": {"ex": round(before / n, 3) if n else None, "ci95": wilson(before, n)},
                         "with": {"ex": round(after / n, 3) if n else None, "ci95": wilson(after, n)},
                         "gained": sum(g > 0 for g in gains), "lost": sum(g < 0 for g in gains),
                         "gain": round((after - before) / n, 3) if n else None,
                         "gain_ci95": bootstrap_interval(gains)}
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.knowledge == "half":
        return run_knowledge(args)
    settings = Settings(sql={"row_cap": 100_000, "candidates": args.candidates,  # type: ignore[arg-type]
                             "candidate_budget_s": args.budget, **overrides(args.set)})
    services = Services(settings)
    systems: dict[str, Any] = {"govdata": lambda q, d: ours(services, q, d)}
    if "langchain" in args.systems:
        systems["langchain"] = LangChainBaseline(services.chat_model)
    if "plain" in args.systems:
        systems["plain"] = PlainPrompt(services.chat_model)
    questions, tuned = select(args), tuned_ids()
    per_item = answer_all(args, systems, questions, tuned)
    return report_of(args, questions, per_item)


def select(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The questions the flags pick: databases, parts and database parts."""
    build_databases(args.split)
    questions = load_questions(args.split, args.per_db, set(args.dbs.split(",")) if args.dbs else None)
    if args.part:
        questions = [q for q in questions if part_of(q["id"], tuned_ids(), q) in args.part.split(",")]
    if args.db_part:
        questions = [q for q in questions if db_part_of(q["db_id"]) == args.db_part]
    return questions


def run_knowledge(args: argparse.Namespace) -> dict[str, Any]:
    """The knowledge protocol (issue 32): half of each database's gold-SQL groups taught, the other half asked
    without and with the knowledge, in one GOVDATA_HOME of its own."""
    import tempfile

    questions = select(args)
    taught, asked = knowledge_split(questions)
    with tempfile.TemporaryDirectory(prefix="govdata-bench-knowledge-") as folder:
        sql = {"row_cap": 100_000, "candidates": args.candidates, "candidate_budget_s": args.budget,
               **overrides(args.set)}
        services = Services(Settings(home=Path(folder) / "home", sql=sql))  # type: ignore[arg-type]
        bare = Services(Settings(home=Path(folder) / "home", sql={**sql, "knowledge_tokens": 0}))  # type: ignore[arg-type]
        bare._chat_model, bare._embeddings = services.chat_model, services.embeddings  # one model in memory
        imported = teach(services, args.split, taught, args.languages.split(","), Path(folder))
        systems = {"govdata": lambda q, d: ours(bare, q, d), "govdata+knowledge": lambda q, d: ours(services, q, d)}
        args.systems = "govdata,govdata+knowledge"
        per_item = answer_all(args, systems, asked, tuned_ids())
    report = report_of(args, asked, per_item)
    report["knowledge"] = {"taught_questions": len(taught), "asked_questions": len(asked), "imports": imported,
                           "paired": knowledge_gain(per_item)}
    return report


def answer_all(args: argparse.Namespace, systems: dict[str, Any], questions: list[dict[str, Any]],
               tuned: set[str]) -> list[dict[str, Any]]:
    """Every system's answer to every question in every language, scored against the gold rows."""
    gold = {row["id"]: _gold(args.split, row) for row in questions}
    partial = args.out.with_suffix(".partial.jsonl") if args.out else None
    per_item = _done(partial) if partial and args.resume else []
    done = {(i["system"], i["language"], i["id"]) for i in per_item}
    # one system and language at a time, questions grouped by database: the model's prompt cache stays warm
    for name in args.systems.split(","):
        for language in args.languages.split(","):
            for n, row in enumerate(questions, 1):
                if (name, language, row["id"]) in done:
                    continue
                database = _database(args.split, row)
                question = row["question"] if language == "en" else row["question_zh"]
                started = time.perf_counter()
                reply = systems[name](question, database)
                seconds = time.perf_counter() - started
                rows, sql, trace, error = reply["rows"], reply["sql"], reply["trace"], reply["error"]
                gold_rows, ordered = gold[row["id"]]
                correct = rows is not None and rows_match(gold_rows, rows, ordered)
                # per candidate: did its result match, and its seconds (rows are not kept)
                candidates = [{"key": t["key"], "correct": t["rows"] is not None and rows_match(gold_rows, t["rows"],
                                                                                               ordered),
                               "seconds": t["seconds"]} for t in trace]
                per_item.append({"id": row["id"], "db": row["db_id"], "language": language, "system": name,
                                 "correct": correct, "ran": rows is not None, "sql": sql,
                                 "seconds": round(seconds, 2), "part": part_of(row["id"], tuned, row),
                                 "question": question, "gold": row["gold_sql"], "candidates": args.candidates,
                                 **({"trace": candidates} if candidates else {}),
                                 **({"knowledge": reply["knowledge"]} if reply.get("knowledge") else {}),
                                 **({"error": error[:300]} if error else {})})
                if partial:
                    with partial.open("a", encoding="utf-8") as log:
                        log.write(json.dumps(per_item[-1], ensure_ascii=False) + "\n")
                print(f"[{name}/{language} {n}/{len(questions)}] {row['id']} {'ok' if correct else 'wrong'} "
                      f"({seconds:.1f} s)", file=sys.stderr, flush=True)
    wanted = {q["id"] for q in questions}
    return [i for i in per_item if i["id"] in wanted]


def report_of(args: argparse.Namespace, questions: list[dict[str, Any]],
              per_item: list[dict[str, Any]]) -> dict[str, Any]:
    """The report: EX with intervals by system, language, part and database; timing; every answer."""
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "command": " ".join(sys.argv), "candidates": args.candidates, "settings": overrides(args.set),
        "questions": len(questions), "databases": sorted({q["db_id"] for q in questions}),
        "ex": {k: v["ex"] for k, v in summarize(per_item).items()},
        "report": summarize(per_item),
        "seconds_per_question": {name: round(statistics.mean([i["seconds"] for i in per_item
                                                               if i["system"] == name]), 2)
                                 for name in {i["system"] for i in per_item}},
        "per_item": per_item,
    }


def _done(partial: Path) -> list[dict[str, Any]]:
    """Answers an earlier run already wrote (a run killed mid-line leaves a broken last line: dropped)."""
    if not partial.is_file():
        return []
    items = []
    for line in partial.read_text(encoding="utf-8").splitlines():
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return items


def _database(split: Path, row: dict[str, Any]) -> Path:
    return split / "database" / row["db_id"] / f"{row['db_id']}.sqlite"


def _gold(split: Path, row: dict[str, Any]) -> tuple[list[list[Any]], bool]:
    rows = [list(r) for r in sqlite_rows(_database(split, row), row["gold_sql"])]
    return rows, gold_is_ordered(row["gold_sql"])


def paired(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Two runs on the same questions, per system/language: how many each got right, and the questions only
    one of them got right (gained / lost) — the honest way to read a small difference."""
    first = {(i["system"], i["language"], i["id"]): bool(i["correct"]) for i in before}
    out: dict[str, dict[str, int]] = {}
    for item in after:
        key = (item["system"], item["language"], item["id"])
        if key not in first:
            continue
        row = out.setdefault(f"{item['system']}/{item['language']}",
                             {"n": 0, "before": 0, "after": 0, "gained": 0, "lost": 0})
        was, now = first[key], bool(item["correct"])
        row["n"] += 1
        row["before"] += was
        row["after"] += now
        row["gained"] += now and not was
        row["lost"] += was and not now
    return out


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--compare":  # python bench/sql.py --compare BEFORE AFTER
        runs = [_done(Path(p)) if p.endswith(".jsonl") else json.loads(Path(p).read_text())["per_item"]
                for p in sys.argv[2:]]
        print(json.dumps(paired(*runs), indent=2))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", type=Path, default=Path("../shared/data/text2sql/spider_dev_split"))
    parser.add_argument("--per-db", type=int, default=6, help="Questions per database (0 = all).")
    parser.add_argument("--dbs", default="", help="Comma-separated db_ids (default all).")
    parser.add_argument("--languages", default="en,zh")
    parser.add_argument("--systems", default="govdata,langchain")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--candidates", type=int, default=1, help="SQL candidates per question (voting).")
    parser.add_argument("--budget", type=float, default=600.0,
                        help="Seconds a question may spend on extra candidates (the product's default is 60; "
                             "high here so an N-candidate run records all N, and k < N can be scored from it).")
    parser.add_argument("--resume", action="store_true", help="Skip questions already in OUT.partial.jsonl.")
    parser.add_argument("--part", default="", help="Only these parts: tuned, held_out, rest (comma-separated).")
    parser.add_argument("--db-part", default="", choices=["", "tuning", "held_back"],
                        help="Only the tuning or the held-back databases.")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="Override a GOVDATA_SQL__ setting of the govdata system (ablations).")
    parser.add_argument("--knowledge", default="none", choices=["none", "half"],
                        help="half: teach half of each database's gold-SQL groups as approved pairs, ask the other "
                             "half without and with them (issue 32).")
    args = parser.parse_args()
    report = run(args)
    summary = {k: v for k, v in report.items() if k != "per_item"}
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
