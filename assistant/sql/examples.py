"""Verified question -> SQL pairs (`govdata sql learn`), shown to the model as few-shot examples: a JSONL file
under GOVDATA_HOME, or the shared state's `examples` table (issue 34)."""

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from assistant.sql.guard import Approval, SqlGuard
from core.errors import GovDataError
from core.files import atomic_write

if TYPE_CHECKING:
    from core.state.postgres import PostgresState


@dataclass(frozen=True)
class VerifiedExample:
    question: str
    sql: str
    tables: tuple[str, ...]
    added_at: str = ""


def readable_by(examples: list[VerifiedExample], approval: Approval, guard: SqlGuard) -> list[VerifiedExample]:
    """The examples a caller could have written: every table in its approval, and SQL the guard allows for it
    that touches no masked column and no column a `*` withholds. Anything else may carry what the caller may
    not read, in the SQL or in the question's words (a name beside an SSN), so it never reaches their prompt."""
    out = []
    for example in examples:
        if not all(approval.table(name) for name in example.tables):
            continue
        verdict = guard.check(example.sql, approval)
        query = verdict.query
        if verdict.allowed and query is not None and not query.masked_outputs and not query.withheld:
            out.append(example)
    return out


class Examples(Protocol):
    def all(self) -> list[VerifiedExample]: ...

    def add(self, question: str, sql: str, tables: tuple[str, ...]) -> VerifiedExample: ...


def _example(question: str, sql: str, tables: tuple[str, ...]) -> VerifiedExample:
    return VerifiedExample(question.strip(), sql.strip(), tables, datetime.now(UTC).isoformat(timespec="seconds"))


class ExampleStore:
    """A JSONL file of steward-approved pairs; a pair for the same question replaces the older one."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def all(self) -> list[VerifiedExample]:
        if not self.path.is_file():
            return []
        out = []
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                out.append(VerifiedExample(str(raw["question"]), str(raw["sql"]), tuple(raw.get("tables", ())),
                                           str(raw.get("added_at", ""))))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise GovDataError(f"{self.path}:{number}: damaged example ({exc})") from None
        return out

    def add(self, question: str, sql: str, tables: tuple[str, ...]) -> VerifiedExample:
        example = _example(question, sql, tables)
        kept = [e for e in self.all() if e.question != example.question]
        lines = [json.dumps(asdict(e), ensure_ascii=False) for e in [*kept, example]]
        atomic_write(self.path, "\n".join(lines) + "\n")
        return example


class PostgresExamples:
    """The pairs in the shared state, oldest first; a pair for the same question replaces the older one."""

    def __init__(self, state: "PostgresState") -> None:
        self.state = state

    def all(self) -> list[VerifiedExample]:
        with self.state.connection() as con:
            rows = con.execute("SELECT question, sql, tables, added_at FROM examples ORDER BY seq").fetchall()
        return [VerifiedExample(q, s, tuple(json.loads(t)), a) for q, s, t, a in rows]

    def add(self, question: str, sql: str, tables: tuple[str, ...]) -> VerifiedExample:
        example = _example(question, sql, tables)
        self.put([example], replace=True)
        return example

    def put(self, examples: list[VerifiedExample], *, replace: bool) -> int:
        """Write pairs in order; without `replace` a question already there keeps its pair (`state migrate`)."""
        conflict = ("DO UPDATE SET sql = excluded.sql, tables = excluded.tables, added_at = excluded.added_at, "
                    "seq = nextval('examples_order')") if replace else "DO NOTHING"
        written = 0
        with self.state.transaction() as con:
            for e in examples:
                written += con.execute(f"INSERT INTO examples (question, sql, tables, added_at) VALUES "
                                       f"(%s, %s, %s, %s) ON CONFLICT (question) {conflict}",
                                       (e.question, e.sql, json.dumps(list(e.tables), ensure_ascii=False),
                                        e.added_at)).rowcount
        return written
