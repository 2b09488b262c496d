"""What a caller may query once their organisation's grants are added to their role (issue 33).

Each reason to read a table is a *source*: the role (every row; its columns, sensitive ones masked or denied by
its policy) or a grant (its rows; its columns, listed sensitive ones masked unless raw). Sources are joined per
table so that no value is ever readable in a row where no single source allows it:

- when some source reads every row (the role, or a grant without a predicate), only those sources count: the
  relation holds every row, each column at the most open treatment any of them gives (a grant with a predicate
  on such a table adds nothing: its extra columns would hold for some rows only);
- otherwise, sources with the same predicate join the same way; sources with different predicates give the rows
  of any of them (OR) and only the columns all of them give, masked where any masks.

The result is an approval (the guard's columns, masks and denials), the row filter of each table (the engine
wall's `WHERE`) and the grant ids each table was opened through, for receipts and `sql tables`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assistant.policy.grants import Grant
from assistant.sql.guard import Approval, TableAccess
from assistant.sql.predicates import checked_predicate
from core.errors import GovDataError
from ingest.tables import RegisteredTable

RAW, MASKED = "raw", "masked"


@dataclass(frozen=True)
class Source:
    grant: str  # "" for the role itself
    columns: Mapping[str, str]  # column -> raw | masked
    rows: str = ""  # a checked predicate; "" for every row


@dataclass(frozen=True)
class Granted:
    """The caller's approval with grants joined in, each granted table's row filter, and the grants used per
    table (only tables some grant opened or widened appear there)."""

    approval: Approval
    tables: list[RegisteredTable]
    row_filters: Mapping[str, str]
    grants: Mapping[str, tuple[str, ...]]


def with_grants(every: list[RegisteredTable], approval: Approval, grants: Sequence[Grant]) -> Granted:
    """The role's `approval` over the registry `every`, widened by `grants` (already the caller's active ones)."""
    if not grants:
        return Granted(approval, [t for t in every if approval.table(t.name)], {}, {})
    accesses, filters, used, tables = [], {}, {}, []
    for table in every:
        role = approval.table(table.name)
        sources = ([_role_source(role)] if role else []) + [
            s for g in grants if g.covers_table(table.name, table.publisher, table.themes)
            if (s := _grant_source(g, table)) is not None]
        if not sources:
            continue
        joined, rows, ids = _join(sources)
        if not ids:  # the role alone: its own access, untouched
            accesses.append(role)
            tables.append(table)
            continue
        names = {c.name: c.type for c in table.columns}
        accesses.append(TableAccess(table.name, names,
                                    masked=frozenset(c for c, how in joined.items() if how == MASKED),
                                    denied=frozenset(c for c in names if c not in joined)))
        tables.append(table)
        used[table.name] = ids
        if rows:
            filters[table.name] = rows
    return Granted(Approval.of([a for a in accesses if a is not None]), tables, filters, used)


def _role_source(access: TableAccess) -> Source:
    denied = {c.lower() for c in access.denied}
    masked = {c.lower() for c in access.masked}
    return Source("", {c: MASKED if c.lower() in masked else RAW for c in access.columns if c.lower() not in denied})


def _grant_source(grant: Grant, table: RegisteredTable) -> Source | None:
    """What one grant opens of one table; None when its predicate no longer fits the table (fail closed: a column
    it names was dropped by a new version of the table)."""
    listed = {c.lower() for c in grant.columns}
    columns = {c.name: (MASKED if not grant.raw else RAW) if c.sensitive else RAW for c in table.columns
               if (c.name.lower() in listed if listed else not c.sensitive)}
    rows = ""
    if grant.rows:
        try:
            rows = checked_predicate(grant.rows, [c.name for c in table.columns])
        except GovDataError:
            return None
    return Source(grant.id, columns, rows)


def _join(sources: list[Source]) -> tuple[dict[str, str], str, tuple[str, ...]]:
    """(column -> treatment, row filter, grant ids) of the sources that count for one table."""
    whole = [s for s in sources if not s.rows]
    if whole:
        return _widest(whole), "", tuple(s.grant for s in whole if s.grant)
    predicates = list(dict.fromkeys(s.rows for s in sources))
    ids = tuple(s.grant for s in sources)
    if len(predicates) == 1:
        return _widest(sources), predicates[0], ids
    common = set.intersection(*(set(s.columns) for s in sources))
    joined = {c: MASKED if any(s.columns[c] == MASKED for s in sources) else RAW for c in common}
    return joined, " OR ".join(f"({p})" for p in predicates), ids


def _widest(sources: list[Source]) -> dict[str, str]:
    joined: dict[str, str] = {}
    for source in sources:
        for column, how in source.columns.items():
            joined[column] = RAW if RAW in (how, joined.get(column)) else MASKED
    return joined

