"""SqlGuard: decides on the syntax tree whether a query may run for a role, and rewrites it into the SQL that runs.

Concrete, not pluggable. Every rule fails closed: what the guard cannot resolve is rejected. The runner
executes the SQL the guard regenerates from the checked tree (comments dropped, stars expanded to allowed
columns, LIMIT clamped), never the caller's text, so tokenizer disagreements cannot smuggle anything through.
"""

from dataclasses import dataclass

from assistant.sql.guard.bounds import MAX_IN_LIST, MAX_SERIES, MAX_SIZE_ARGUMENT, check_bounds
from assistant.sql.guard.columns import check_columns, name_outputs, qualify_columns, withheld_by_stars
from assistant.sql.guard.functions import ALLOWED_TABLE_FUNCTIONS, DENIED_FUNCTIONS, DENIED_PREFIXES, function_name
from assistant.sql.guard.limits import clamp_limit, limit_of
from assistant.sql.guard.methods import calls_from_methods
from assistant.sql.guard.model import (
    DEFAULT_ROW_CAP,
    DIALECT,
    MAX_NESTING,
    MAX_SQL_CHARS,
    Approval,
    GuardedQuery,
    SqlRejected,
    TableAccess,
    Verdict,
    withheld_list,
)
from assistant.sql.guard.parse import check_round_trip, parse_single, transpile
from assistant.sql.guard.sources import check_sources, check_tables
from assistant.sql.guard.statements import check_nodes
from assistant.sql.guard.text import check_text

__all__ = ["ALLOWED_TABLE_FUNCTIONS", "DEFAULT_ROW_CAP", "DENIED_FUNCTIONS", "DENIED_PREFIXES", "DIALECT",
           "MAX_IN_LIST", "MAX_NESTING", "MAX_SERIES", "MAX_SIZE_ARGUMENT", "MAX_SQL_CHARS", "Approval", "GuardedQuery",
           "SqlGuard", "SqlRejected", "TableAccess", "Verdict", "function_name", "transpile", "withheld_list"]


@dataclass(frozen=True)
class SqlGuard:
    """Checks one statement against an Approval; `row_cap` is the most rows any query may return."""

    row_cap: int = DEFAULT_ROW_CAP
    max_chars: int = MAX_SQL_CHARS

    def check(self, sql: str, approval: Approval) -> Verdict:
        """The verdict with a reason, never an exception for bad SQL."""
        try:
            query = self.guard(sql, approval)
        except SqlRejected as rejected:
            return Verdict(False, rejected.reason, sql)
        return Verdict(True, "allowed: a read-only query of approved tables", query.sql, query)

    def guard(self, sql: str, approval: Approval) -> GuardedQuery:
        """The query to run, or SqlRejected with the first rule it breaks."""
        try:
            return self._guard(sql, approval)
        except RecursionError:
            raise SqlRejected("the query is nested too deeply to check; simplify it") from None

    def _guard(self, sql: str, approval: Approval) -> GuardedQuery:
        check_text(sql, self.max_chars)
        root = calls_from_methods(parse_single(sql))
        check_nodes(root)
        check_bounds(root)
        tables = check_tables(root, approval)
        check_sources(root)
        name_outputs(root)
        withheld = withheld_by_stars(root, approval, tables)
        qualified = qualify_columns(root, approval, tables)
        check_nodes(qualified)
        masked = check_columns(qualified, approval)
        limited, applied = clamp_limit(qualified, self.row_cap)
        text = limited.sql(dialect=DIALECT, comments=False)
        check_round_trip(text)
        return GuardedQuery(text, tuple(sorted(tables)), masked, limit_of(limited), applied, withheld)
