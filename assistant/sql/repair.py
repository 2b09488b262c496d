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

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope

from ingest.tables import RegisteredTable

_UNRESOLVED = (
    re.compile(r"Column '([^']+)' could not be resolved"),  # the guard (sqlglot)
    re.compile(r"Unknown column: ([\w.\"`]+)"),  # the guard (sqlglot), a column of no table in the query
    re.compile(r'Referenced column "([^"]+)" not found'),  # DuckDB's binder
    re.compile(r'column "?([\w.]+)"? does not exist'),  # PostgreSQL
)
_ABSENT = (  # the same messages, and those about a table or a column the role may not read
    *_UNRESOLVED,
    re.compile(r"column ([\w.\"]+) is not available"),  # the guard: a column withheld from the role
    re.compile(r"column \"?([^\s\"]+)\"? not found"),  # DuckDB
    re.compile(r"table '?\"?([\w.]+)\"?'? (?:is not an approved table|does not exist)"),  # the guard, PostgreSQL
    re.compile(r"Table with name ([\w.]+) does not exist"),  # DuckDB
)
_COLUMNS_SHOWN = 30


def unresolved_column(error: str) -> str | None:
    """The column an engine or the guard could not find, from its message (without a table prefix)."""
    for pattern in _UNRESOLVED:
        if match := pattern.search(error):
            return match.group(1).split(".")[-1].strip('"`[]').lower()
    return None


def missing_names(error: str) -> list[str]:
    """Every table or column an engine or the guard said is not there, as the person can read them, once each."""
    found = sorted((match for pattern in _ABSENT for match in pattern.finditer(error)), key=lambda m: m.start())
    return list(dict.fromkeys(next(g for g in match.groups() if g).strip('"`') for match in found))


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


def requalified(sql: str, tables: Sequence[RegisteredTable], dialect: str = "duckdb",
                every: Sequence[RegisteredTable] = ()) -> str | None:
    """The query with each column its alias's table lacks taken from the one table of the same SELECT that has it
    (`T1.fname` with T1 = has_pet and T2 = student -> `T2.fname`), and a join equation whose two sides each sit on
    the other's table swapped (`b.lost_in_battle = s.id` -> `s.lost_in_battle = b.id`), a join equation on a column
    one side lacks replaced by the one key the schema declares between the two tables (`cd.makeid = cn.makeid` ->
    `cd.id = cn.makeid`, `_declared_joins`); None when nothing is wrong
    so, or a wrong column has no single right table. Only the given (visible) tables' columns are read, and the
    result goes through the guard again like any query. A column that its table has but the role may not read
    (in `every`, the tables with all their columns) is not moved: the question asked for that table's column, and
    a same-named one elsewhere would answer another question."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError:
        return None
    columns_of = _columns(tables)
    held = _columns(every) or columns_of
    keys = _declared_keys(tables)
    changed = False
    for scope in traverse_scope(tree):
        if not scope.sources or not all(isinstance(source, exp.Table) for source in scope.sources.values()):
            continue  # a derived table or CTE among the sources: its columns are not known here
        aliases = {alias.lower(): source.name.lower() for alias, source in scope.sources.items()
                   if isinstance(source, exp.Table)}
        spelled = {alias.lower(): alias for alias in scope.sources}
        changed |= _swap_join_sides(scope, aliases, columns_of)
        changed |= _declared_joins(scope, aliases, columns_of, keys)
        for column in scope.columns:
            alias, name = column.table.lower(), column.name.lower()
            if not alias or alias not in aliases or name in held.get(aliases[alias], set()):
                continue
            holders = [a for a, table in aliases.items() if name in columns_of.get(table, set())]
            if len(holders) == 1 and not _joins_itself(column, holders[0]):
                column.set("table", exp.to_identifier(spelled[holders[0]]))
                changed = True
    return tree.sql(dialect=dialect) if changed else None


def _columns(tables: Sequence[RegisteredTable]) -> dict[str, set[str]]:
    """Each table's column names, lower-cased, by lower-cased table name."""
    return {t.name.lower(): {c.name.lower() for c in t.columns} for t in tables}


def _declared_keys(tables: Sequence[RegisteredTable]) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """The declared joins between each ordered pair of (lower-cased) tables, as (column of the first, column of the
    second), spelled as the tables spell them."""
    keys: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for table in tables:
        for column in table.columns:
            for target in column.joins:
                other, _, name = target.rpartition(".")
                pair = (table.name.lower(), other.lower())
                keys.setdefault(pair, []).append((column.name, name))
                keys.setdefault(pair[::-1], []).append((name, column.name))
    return keys


def _declared_joins(scope: Scope, aliases: dict[str, str], columns_of: dict[str, set[str]],
                    keys: dict[tuple[str, str], list[tuple[str, str]]]) -> bool:
    """An equation between two tables that names a column one of them lacks (`cd.makeid = cn.makeid`, where
    cars_data has no makeid) becomes the one join the schema declares between them (`cd.id = cn.makeid`); left
    alone when the tables declare no key or more than one, since then the intended join is not known. Only a key
    whose two columns are both visible is used (a join may point at a column the role may not read)."""
    changed = False
    for left, right in _equations(scope):
        lt, rt = left.table.lower(), right.table.lower()
        if lt == rt or lt not in aliases or rt not in aliases:
            continue
        here, there = columns_of.get(aliases[lt], set()), columns_of.get(aliases[rt], set())
        if left.name.lower() in here and right.name.lower() in there:
            continue
        declared = [(a, b) for a, b in dict.fromkeys(keys.get((aliases[lt], aliases[rt]), []))
                    if a.lower() in here and b.lower() in there]
        if len(declared) == 1:
            left.set("this", exp.to_identifier(declared[0][0]))
            right.set("this", exp.to_identifier(declared[0][1]))
            changed = True
    return changed


def _joins_itself(column: exp.Column, alias: str) -> bool:
    """Moving the column to `alias` would make an equation of a table with itself (`s.shop_id = s.shop_id`): the
    join needs a table the query does not have, which no re-qualification can supply."""
    eq = column.parent
    if not isinstance(eq, exp.EQ):
        return False
    other = eq.right if eq.left is column else eq.left
    return isinstance(other, exp.Column) and other.table.lower() == alias


def _swap_join_sides(scope: Scope, aliases: dict[str, str], columns_of: dict[str, set[str]]) -> bool:
    def has(alias: str, column: str) -> bool:
        return column in columns_of.get(aliases.get(alias, ""), set())

    changed = False
    for left, right in _equations(scope):
        lt, rt, lc, rc = left.table.lower(), right.table.lower(), left.name.lower(), right.name.lower()
        if lt != rt and not (has(lt, lc) and has(rt, rc)) and has(rt, lc) and has(lt, rc):
            left_table, right_table = left.table, right.table
            left.set("table", exp.to_identifier(right_table))
            right.set("table", exp.to_identifier(left_table))
            changed = True
    return changed


def _equations(scope: Scope) -> list[tuple[exp.Column, exp.Column]]:
    """The SELECT's own equations between two table-qualified columns (a subquery's belong to its own scope)."""
    found = []
    for eq in scope.expression.find_all(exp.EQ):
        left, right = eq.left, eq.right
        if eq.find_ancestor(exp.Select) is scope.expression and isinstance(left, exp.Column) \
                and isinstance(right, exp.Column) and left.table and right.table:
            found.append((left, right))
    return found
