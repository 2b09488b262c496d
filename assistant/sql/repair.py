"""A hint for a failed query's retry: where a column the model named really is.

The largest class of wrong text-to-SQL answers on unseen schemas is "no query ran": the model puts a column
on the wrong table (`car_names.weight`, where `weight` lives in `cars_data`) or uses an alias it never
defined, and the engine's error alone rarely leads a small model to the fix. The hint names the tables that do
hold the column (with their columns, so the model can join), or the closest column names when none does. Only
the role's visible tables and columns are ever named.
"""

import difflib
import re
from collections.abc import Sequence

from ingest.tables import RegisteredTable

_UNRESOLVED = (
    re.compile(r"Column '([^']+)' could not be resolved"),  # the guard (sqlglot)
    re.compile(r"Unknown column: ([\w.\"`]+)"),  # the guard (sqlglot), a column of no table in the query
    re.compile(r'Referenced column "([^"]+)" not found'),  # DuckDB's binder
    re.compile(r'column "?([\w.]+)"? does not exist'),  # PostgreSQL
)
_COLUMNS_SHOWN = 30


def unresolved_column(error: str) -> str | None:
    """The column an engine or the guard could not find, from its message (without a table prefix)."""
    for pattern in _UNRESOLVED:
        if match := pattern.search(error):
            return match.group(1).split(".")[-1].strip('"`[]').lower()
    return None


def repair_hint(error: str, tables: Sequence[RegisteredTable]) -> str:
    """One line for the retry prompt, or "" when the error is not about a missing column."""
    column = unresolved_column(error)
    if not column:
        return ""
    holders = [t for t in tables if any(c.name.lower() == column for c in t.columns)]
    if holders:
        listed = "; ".join(f"{t.name}({', '.join(c.name for c in t.columns[:_COLUMNS_SHOWN])})" for t in holders[:3])
        return (f"Hint: {column} is a column of {listed}. Take it from that table (join it on a shared key) "
                "and define every alias you use in FROM.")
    names = {f"{t.name}.{c.name}": c.name.lower() for t in tables for c in t.columns}
    close = difflib.get_close_matches(column, list(set(names.values())), n=3, cutoff=0.7)
    if close:
        matches = [qualified for qualified, name in names.items() if name in close][:5]
        return f"Hint: no table has a column {column}; the closest are {', '.join(matches)}."
    return f"Hint: no table has a column {column}: answer with the columns listed."
