"""Which verified examples a caller may be shown: the role check of issue 26 (item 7), shared by every kind of
knowledge that carries SQL (issue 32; the items themselves live in `knowledge.py`)."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from assistant.sql.guard import Approval, SqlGuard


@dataclass(frozen=True)
class VerifiedExample:
    question: str
    sql: str
    tables: tuple[str, ...]
    added_at: str = ""


class Example(Protocol):
    @property
    def sql(self) -> str: ...

    @property
    def tables(self) -> Iterable[str]: ...


E = TypeVar("E", bound=Example)


def readable_by(examples: list[E], approval: Approval, guard: SqlGuard) -> list[E]:
    """The examples a caller could have written: every table in its approval, and SQL the guard allows for it
    that touches no masked column and no column a `*` withholds. Anything else may carry what the caller may
    not read, in the SQL or in the question's words (a name beside an SSN), so it never reaches their prompt."""
    return [e for e in examples if all(approval.table(name) for name in e.tables) and reads_only_readable(
        e.sql, approval, guard)]


def reads_only_readable(sql: str, approval: Approval, guard: SqlGuard) -> bool:
    """Whether the guard allows SQL for this approval with nothing masked and nothing withheld by a `*`."""
    verdict = guard.check(sql, approval)
    query = verdict.query
    return verdict.allowed and query is not None and not query.masked_outputs and not query.withheld
