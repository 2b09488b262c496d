"""A query that found nothing because a value was spelled in another case: run it in the data's spelling.

People and models write the values a question names as the question spells them (`'Jetblue Airways'`,
`'beijing'`), while a text column holds one spelling (`JetBlue Airways`, `Beijing`), and `=` and `LIKE` in DuckDB
and PostgreSQL compare text exactly: the query runs and finds no rows. When it does, each text literal compared
with `=` or `IN` to a column of a real table is looked up in that column ignoring case (not spaces: ' APG' and
'APG' are two values to the engine and to the people who compare them exactly); where exactly one value matches
and differs from the literal, the literal takes the value's spelling; and `column LIKE 'pattern'` becomes
`ILIKE` (SQLite's LIKE ignores case anyway). The caller runs the result through the guard and the role's runner
again and keeps it only if it finds rows.

Which columns may be looked up is the caller's decision (`lookup` returns None for any other): only the role's
own readable, unmasked text columns, never a table under disclosure control.
"""

from collections.abc import Callable, Mapping

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

Lookup = Callable[[str, str, str], str | None]  # (table, column, literal) -> the column's one spelling, or None


def respelled(sql: str, columns_of: Mapping[str, set[str]], lookup: Lookup, dialect: str = "duckdb") -> str | None:
    """The query with each literal compared to a known text column (`columns_of`: lower-cased table -> its
    lower-cased text columns) in the spelling `lookup` finds; None when no literal changes or the SQL does not
    parse."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError:
        return None
    changed = False
    for scope in traverse_scope(tree):
        aliases = {alias.lower(): source.name.lower() for alias, source in scope.sources.items()
                   if isinstance(source, exp.Table)}
        for column, literal in _compared_literals(scope.expression):
            table = _table_of(column, aliases, columns_of)
            if table is None:
                continue
            spelling = lookup(table, column.name.lower(), literal.this)
            if spelling is not None and spelling != literal.this:
                literal.replace(exp.Literal.string(spelling))
                changed = True
        for like in _text_likes(scope.expression, aliases, columns_of):
            like.replace(exp.ILike(this=like.this, expression=like.expression))
            changed = True
    return tree.sql(dialect=dialect) if changed else None


def _text_likes(select: exp.Expr, aliases: Mapping[str, str], columns_of: Mapping[str, set[str]]) -> list[exp.Like]:
    """`column LIKE 'pattern'` on a known text column in this SELECT's own clauses: a pattern is matched without
    regard to case once exact matching found nothing (as SQLite's LIKE always does for ASCII)."""
    return [node for node in select.find_all(exp.Like) if node.parent_select is select
            and isinstance(node.this, exp.Column) and _is_text(node.expression)
            and _table_of(node.this, aliases, columns_of) is not None]


def _compared_literals(select: exp.Expr) -> list[tuple[exp.Column, exp.Literal]]:
    """(column, string literal) pairs of `column = 'x'` (either side) and `column IN ('x', ...)` in this SELECT's
    own WHERE, ON and HAVING (not in its subqueries: they are scopes of their own)."""
    pairs: list[tuple[exp.Column, exp.Literal]] = []
    for node in select.find_all(exp.EQ, exp.In):
        if node.parent_select is not select:
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
