"""Verified question -> SQL pairs (`govdata sql learn`), shown to the model as few-shot examples."""

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from assistant.sql.guard import Approval, SqlGuard
from core.errors import GovDataError
from core.files import atomic_write


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
        example = VerifiedExample(question.strip(), sql.strip(), tables,
                                  datetime.now(UTC).isoformat(timespec="seconds"))
        kept = [e for e in self.all() if e.question != example.question]
        lines = [json.dumps(asdict(e), ensure_ascii=False) for e in [*kept, example]]
        atomic_write(self.path, "\n".join(lines) + "\n")
        return example
