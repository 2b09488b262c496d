"""A query that found nothing because a value was spelled in another case: run it in the data's spelling.

People and models write the values a question names as the question spells them (`'Jetblue Airways'`,
`'beijing'`), while a text column holds one spelling (`JetBlue Airways`, `Beijing`), and `=` and `LIKE` in DuckDB
and PostgreSQL compare text exactly: the query finds nothing (no rows, or one row of zeros and NULLs, as a count
over nothing gives). When it does, each text literal compared with `=` or `IN` to a column of a real table is
looked up in that column ignoring case (not spaces: ' APG' and 'APG' are two values to the engine and to the
people who compare them exactly); where exactly one value matches and differs from the literal, the literal takes
the value's spelling; and `column LIKE 'pattern'` becomes `ILIKE` (SQLite's LIKE ignores case anyway). Negated
comparisons (`NOT IN`, `NOT LIKE`, `<>`, anything under `NOT`) are left alone: a stricter exclusion cannot be what
found nothing. The caller runs the result through the guard and the role's runner again and keeps it only if it
finds something.

Which columns may be looked up is the caller's decision (`lookup` returns None for any other): only the role's
own readable, unmasked text columns, never a table under disclosure control.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

Lookup = Callable[[str, str, str], str | None]  # (table, column, literal) -> the column's one spelling, or None
MAX_LOOKUPS = 20  # literals looked up per query: each is a scan of one column


def found_nothing(rows: Sequence[Sequence[Any]]) -> bool:
    """No rows, or one row of zeros and NULLs (`count(*)`, `sum` or `avg` over rows that matched nothing)."""
    return not rows or (len(rows) == 1 and all(value is None or value == 0 for value in rows[0]))


def respelled(sql: str, columns_of: Mapping[str, set[str]], lookup: Lookup,
              dialect: str = "duckdb") -> tuple[str, list[str]] | None:
    """The query with each literal compared to a known text column (`columns_of`: lower-cased table -> its
    lower-cased text columns) in the spelling `lookup` finds, and LIKE on one as ILIKE, with what changed
    (`'Jetblue' -> 'JetBlue'`, `LIKE -> ILIKE`); None when nothing changes or the SQL does not parse. At most
    `MAX_LOOKUPS` literals are looked up."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError:
        return None
    changes: list[str] = []
    lookups = 0
    for scope in traverse_scope(tree):
        aliases = {alias.lower(): source.name.lower() for alias, source in scope.sources.items()
                   if isinstance(source, exp.Table)}
        for column, literal in _compared_literals(scope.expression):
            table = _table_of(column, aliases, columns_of)
            if table is None or lookups >= MAX_LOOKUPS:
                continue
            lookups += 1
            spelling = lookup(table, column.name.lower(), literal.this)
            if spelling is not None and spelling != literal.this:
                changes.append(f"{literal.sql(dialect=dialect)} -> {exp.Literal.string(spelling).sql(dialect=dialect)}")
                literal.replace(exp.Literal.string(spelling))
        for like in _text_likes(scope.expression, aliases, columns_of):
            like.replace(exp.ILike(this=like.this, expression=like.expression))
            changes.append("LIKE -> ILIKE")
    return (tree.sql(dialect=dialect), list(dict.fromkeys(changes))) if changes else None


def _compared_literals(select: exp.Expr) -> list[tuple[exp.Column, exp.Literal]]:
    """(column, string literal) pairs of `column = 'x'` (either side) and `column IN ('x', ...)` anywhere in this
    SELECT's own clauses (not in its subqueries: they are scopes of their own), none under a negation."""
    pairs: list[tuple[exp.Column, exp.Literal]] = []
    for node in select.find_all(exp.EQ, exp.In):
        if node.parent_select is not select or _negated(node, select):
            continue
        if isinstance(node, exp.EQ):
            left, right = node.this, node.expression
            if isinstance(right, exp.Column):
                left, right = right, left
            if isinstance(left, exp.Column) and _is_text(right):
                pairs.append((left, right))
        elif isinstance(node.this, exp.Column) and not node.args.get("query"):
            pairs.extend((node.this, item) for item in node.expressions if _is_text(item))
    return pairs


def _text_likes(select: exp.Expr, aliases: Mapping[str, str], columns_of: Mapping[str, set[str]]) -> list[exp.Like]:
    """`column LIKE 'pattern'` on a known text column in this SELECT's own clauses, not negated."""
    return [node for node in select.find_all(exp.Like) if node.parent_select is select
            and not _negated(node, select) and isinstance(node.this, exp.Column) and _is_text(node.expression)
            and _table_of(node.this, aliases, columns_of) is not None]


def _negated(node: exp.Expr, select: exp.Expr) -> bool:
    """Whether the comparison is negated itself (`NOT LIKE`) or sits under a NOT within its SELECT."""
    if node.args.get("negate"):
        return True
    parent = node.parent
    while parent is not None and parent is not select:
        if isinstance(parent, exp.Not):
            return True
        parent = parent.parent
    return False


def _is_text(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def _table_of(column: exp.Column, aliases: Mapping[str, str], columns_of: Mapping[str, set[str]]) -> str | None:
    """The real table a column of this SELECT belongs to, when it is one of the known text columns."""
    name = column.name.lower()
    if column.table:
        table = aliases.get(column.table.lower())
        return table if table is not None and name in columns_of.get(table, set()) else None
    holders = [table for table in aliases.values() if name in columns_of.get(table, set())]
    return holders[0] if len(set(holders)) == 1 else None
