"""What the guard decides over and returns: an approval (tables, columns, masked and denied), the guarded
query, a verdict, and the rejection every rule raises."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlglot import exp

from core.errors import GovDataError

DIALECT = "duckdb"


def unknown_type(node: exp.Expr) -> bool:
    """A type sqlglot does not know (`oid`, `uint8`, or any quoted name): it writes one back unquoted, so a name such
    as `"oid) OR (1"` turns the rest of its text into SQL nobody checked. The guard and grant predicates refuse it."""
    return isinstance(node, exp.DataType) and node.this == exp.DataType.Type.USERDEFINED
MAX_SQL_CHARS = 20_000
DEFAULT_ROW_CAP = 1000
MAX_NESTING = 64  # parentheses deep; legitimate analyst SQL stays far below, the parser recurses per level


class SqlRejected(GovDataError):
    """The guard refused a query; `reason` is written for the person who asked."""

    def __init__(self, reason: str, node: exp.Expr | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.node = node


@dataclass(frozen=True)
class TableAccess:
    """One approved table as a role sees it: usable columns (name -> type), masked and denied ones."""

    name: str
    columns: Mapping[str, str]
    masked: frozenset[str] = frozenset()
    denied: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Approval:
    """The tables a caller may query, keyed by lower-case name."""

    tables: Mapping[str, TableAccess]

    @classmethod
    def of(cls, tables: list[TableAccess]) -> "Approval":
        return cls({t.name.lower(): t for t in tables})

    def table(self, name: str) -> TableAccess | None:
        return self.tables.get(name.lower())


@dataclass(frozen=True)
class GuardedQuery:
    """A query the guard allowed: the SQL that runs, the tables it reads, output positions to mask."""

    sql: str
    tables: tuple[str, ...]
    masked_outputs: tuple[int, ...] = ()
    limit: int = DEFAULT_ROW_CAP
    limit_applied: bool = False
    withheld: tuple[str, ...] = ()  # "table.column" a star left out because the role may not see it
    single_scan: tuple[str, ...] = ()  # tables the plan may read at most once, with no window (disclosure control)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str
    sql: str
    query: GuardedQuery | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, object]:
        withheld = self.query.withheld if self.query is not None else ()
        return {"allowed": self.allowed, "reason": self.reason, "sql": self.sql, "withheld": withheld_list(withheld)}


WITHHELD_REASON = "sensitive: not visible to this role"


def withheld_list(columns: tuple[str, ...] | list[str]) -> list[dict[str, str]]:
    """The `withheld` JSON field of `sql check/run`: [{"column", "reason"}]."""
    return [{"column": c, "reason": WITHHELD_REASON} for c in columns]
