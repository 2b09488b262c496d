"""SQLite's bare columns, made explicit: a deterministic fix-up for "must appear in the GROUP BY clause".

SQLite (and MySQL without ONLY_FULL_GROUP_BY) accept `SELECT name, MAX(age) FROM people` and
`SELECT s.name, s.capacity ... GROUP BY s.name`: a column that is neither grouped nor aggregated takes its value
from some row of the group, and when the query has exactly one MIN() or MAX(), from the row that holds that
extreme. Models trained on such SQL write it all the time; DuckDB and PostgreSQL refuse it. This rewrite gives
the query the meaning SQLite gives it, with functions the engines have: `ARG_MAX(name, age)` /
`ARG_MIN(...)` for the one-extreme case on DuckDB, `ANY_VALUE(col)` otherwise.

It only ever runs on a query the engine has already refused for exactly that reason, and the rewritten SQL
goes through the guard again like any other, so it can neither widen access nor change a query that ran.
"""

import re
from typing import Any

import sqlglot
from sqlglot import exp

NOT_GROUPED = re.compile(r"must appear in the GROUP BY clause")


def explicit_grouping(sql: str, arg_extremes: bool = True) -> str | None:
    """`sql` with every bare column of an aggregated SELECT wrapped, or None when there is nothing to do or
    the query is outside what this rewrite understands (window functions, unparsable text)."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return None
    if tree is None or tree.find(exp.Window):
        return None
    changed = False
    for select in list(tree.find_all(exp.Select)):
        changed |= _wrap_bare_columns(select, arg_extremes)
    return tree.sql(dialect="duckdb") if changed else None


def _wrap_bare_columns(select: exp.Select, arg_extremes: bool) -> bool:
    aggregates = [a for e in _own_expressions(select) for a in _own_nodes(e, exp.AggFunc)]
    group = select.args.get("group")
    if not aggregates and not group:
        return False
    grouped = _grouped_keys(select)
    extremes = [a for a in aggregates if isinstance(a, exp.Max | exp.Min)]
    extreme = extremes[0] if arg_extremes and len(extremes) == 1 else None  # SQLite: exactly one MIN or MAX
    changed = False
    for position, projection in enumerate(select.expressions):
        bare = _bare_columns(projection, grouped)
        if not bare:
            continue
        name = projection.alias_or_name if isinstance(projection.unalias(), exp.Column) else ""
        for column in bare:
            column.replace(_wrapped(column.copy(), extreme))
        if name and not isinstance(select.expressions[position], exp.Alias):
            select.expressions[position].replace(exp.alias_(select.expressions[position].copy(), name, quoted=False))
        changed = True
    order = select.args.get("order")
    for ordered in order.expressions if order else []:
        for column in _bare_columns(ordered, grouped, _aliases(select)):
            column.replace(_wrapped(column.copy(), extreme))
            changed = True
    return changed


def _wrapped(column: exp.Column, extreme: exp.Expr | None) -> exp.Expr:
    if extreme is None:
        return exp.AnyValue(this=column)
    function = exp.ArgMax if isinstance(extreme, exp.Max) else exp.ArgMin
    return function(this=column, expression=extreme.this.copy())


def _grouped_keys(select: exp.Select) -> set[str]:
    """What the SELECT groups by, as lower-case SQL text and bare column names (positions and aliases read)."""
    group = select.args.get("group")
    keys: set[str] = set()
    for key in group.expressions if group else []:
        if isinstance(key, exp.Literal) and key.is_int and 0 < int(key.this) <= len(select.expressions):
            key = select.expressions[int(key.this) - 1].unalias()
        elif isinstance(key, exp.Column) and not key.table:
            aliased = next((p.unalias() for p in select.expressions
                            if isinstance(p, exp.Alias) and p.alias.lower() == key.name.lower()), None)
            key = aliased or key
        keys.add(key.sql(dialect="duckdb").lower())
        if isinstance(key, exp.Column):
            keys.add(key.name.lower())
    return keys


def _bare_columns(node: exp.Expr, grouped: set[str], aliases: frozenset[str] = frozenset()) -> list[exp.Column]:
    """Columns of `node` outside aggregates and subqueries that are not grouped. A column counts as grouped
    when its text or its bare name is a grouping key (`name` and `s.name` alike): a rare false match leaves
    the query as it was, and the engine's refusal goes on to the model's own fix-up."""
    if node.unalias().sql(dialect="duckdb").lower() in grouped:
        return []
    bare = []
    for column in _own_nodes(node, exp.Column):
        if any(isinstance(a, exp.AggFunc) for a in [*_ancestors(column, node), node]):
            continue
        name = column.name.lower()
        if column.sql(dialect="duckdb").lower() in grouped or name in grouped or (not column.table and
                                                                                   name in aliases):
            continue
        bare.append(column)
    return bare


def _aliases(select: exp.Select) -> frozenset[str]:
    return frozenset(p.alias.lower() for p in select.expressions if isinstance(p, exp.Alias))


def _own_expressions(select: exp.Select) -> list[exp.Expr]:
    order = select.args.get("order")
    having = select.args.get("having")
    return [*select.expressions, *(order.expressions if order else []), *([having] if having else [])]


def _own_nodes(node: exp.Expr, kind: type) -> list[Any]:
    """Nodes of a kind inside `node` but not inside a nested query of it."""
    found = []
    for child in node.walk(prune=lambda n: n is not node and isinstance(n, exp.Subquery | exp.Select)):
        if isinstance(child, kind) and not any(isinstance(a, exp.Subquery | exp.Select)
                                               for a in _ancestors(child, node)):
            found.append(child)
    return found


def _ancestors(node: exp.Expr, stop: exp.Expr) -> list[exp.Expr]:
    chain: list[exp.Expr] = []
    if node is stop:
        return chain
    parent = node.parent
    while parent is not None and parent is not stop:
        chain.append(parent)
        parent = parent.parent
    return chain
