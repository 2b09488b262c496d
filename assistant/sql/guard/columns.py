"""Columns: qualify every column through the approved schema, refuse denied ones wherever they appear, and
record which outputs carry masked columns."""

import re

from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope
from sqlglot.schema import MappingSchema

from assistant.sql.guard.model import DIALECT, Approval, SqlRejected, TableAccess
from assistant.sql.guard.sources import _scopes
from core.errors import first_line

_AUTO_ALIAS = re.compile(r"^_col_\d+$")


def name_outputs(root: exp.Expr) -> None:
    """Give unnamed computed outputs their own text as a name, so results read `count(*)`, not `_col_0`."""
    for select in _outer_selects(root):
        for index, projection in enumerate(select.expressions):
            if isinstance(projection, exp.Alias | exp.Column | exp.Star):
                continue
            name = projection.sql(dialect=DIALECT, comments=False)[:60]
            select.expressions[index] = exp.alias_(projection, name, quoted=True)


def _outer_selects(root: exp.Expr) -> list[exp.Select]:
    if isinstance(root, exp.SetOperation):
        return [*_outer_selects(root.left), *_outer_selects(root.right)]
    while isinstance(root, exp.Subquery):
        root = root.this
    return [root] if isinstance(root, exp.Select) else []


def qualify_columns(root: exp.Expr, approval: Approval, tables: set[str]) -> exp.Expr:
    """Resolve every column to its table; stars expand to the role's columns only (denied ones are absent)."""
    _reject_denied_names(root, approval, tables)
    schema = MappingSchema(
        {name: _usable_columns(approval.tables[name]) for name in tables}, dialect=DIALECT, normalize=True,
    )
    try:
        return qualify(root.copy(), dialect=DIALECT, schema=schema, validate_qualify_columns=True,
                       quote_identifiers=True, identify=False, expand_stars=True)
    except (OptimizeError, SqlglotError) as exc:
        raise SqlRejected(f"cannot resolve the query's columns: {first_line(exc)}{_quote_hint(root, exc)}") from None


def _quote_hint(root: exp.Expr, exc: Exception) -> str:
    """SQLite reads an unknown "name" as text; DuckDB (and the guard) read it as a column."""
    quoted = {c.name.lower(): c.name for c in root.find_all(exp.Column) if c.this.args.get("quoted")}
    unresolved = re.search(r"Column '([^']*)' could not be resolved", str(exc))
    if unresolved and unresolved.group(1).lower() in quoted:
        text = quoted[unresolved.group(1).lower()].replace("'", "''")
        return f" (double quotes name a column; write text in single quotes: '{text}')"
    return ""


def withheld_by_stars(root: exp.Expr, approval: Approval, tables: set[str]) -> tuple[str, ...]:
    """The denied columns a `*` (or `t.*`) in the query would have covered: the guard expands stars to the
    role's columns only, so these are left out silently unless the caller is told (issue 17)."""
    aliases = {(t.alias_or_name or t.name).lower(): t.name.lower() for t in root.find_all(exp.Table)}
    covered: set[str] = set()
    for star in root.find_all(exp.Star):
        column = star.parent if isinstance(star.parent, exp.Column) else None
        if not isinstance((column or star).parent, exp.Select):
            continue  # count(*) and the like read no column
        qualifier = column.table.lower() if column is not None and column.table else ""
        if qualifier:
            covered.add(aliases.get(qualifier, qualifier))
        else:
            covered.update(t.lower() for t in tables)
    return tuple(sorted(f"{name}.{c}" for name in tables if name.lower() in covered
                        for c in approval.tables[name].denied))


def _usable_columns(access: TableAccess) -> dict[str, str]:
    denied = {c.lower() for c in access.denied}
    return {name: kind for name, kind in access.columns.items() if name.lower() not in denied}


def _reject_denied_names(root: exp.Expr, approval: Approval, tables: set[str]) -> None:
    """Any column or USING name that a read table denies, whatever it resolves to (fails closed)."""
    denied = {c.lower(): table for table in sorted(tables) for c in approval.tables[table].denied}
    names: list[exp.Expr] = list(root.find_all(exp.Column))
    for join in root.find_all(exp.Join):
        names.extend(join.args.get("using") or [])
    for node in names:
        name = node.name.lower()
        if name in denied:
            raise SqlRejected(f"column {denied[name]}.{name} is not available to this role", node)


def check_columns(root: exp.Expr, approval: Approval) -> tuple[int, ...]:
    """Every column belongs to an approved table's allowed set; masked ones only as plain outputs."""
    masked_outputs: set[int] = set()
    outputs = _output_positions(root)
    checked: set[int] = set()
    for scope in _scopes(root):
        for column in scope.columns:
            if not column.table:
                continue
            checked.add(id(column))
            table = _column_table(scope, column)
            if table is not None and _check_table_column(approval.tables[table], column):
                if id(column) not in outputs:
                    raise SqlRejected(f"column {table}.{column.name.lower()} is sensitive: it can be shown masked, "
                                      "but not filtered, joined, sorted, grouped or computed on", column)
                masked_outputs.add(outputs[id(column)])
    for column in root.find_all(exp.Column):
        if column.table and id(column) not in checked:
            raise SqlRejected(f"cannot resolve column {column.sql(dialect=DIALECT)}", column)
        if not column.table:
            _check_output_reference(root, column, masked_outputs)
    for star in root.find_all(exp.Star):
        if not isinstance(star.parent, exp.Count):
            raise SqlRejected("cannot expand * here; name the columns", star)
    if masked_outputs:
        _check_ordinals(root, masked_outputs)
    return tuple(sorted(masked_outputs))


def _check_ordinals(root: exp.Expr, masked_outputs: set[int]) -> None:
    """ORDER/GROUP BY n or ALL would sort or group on a masked output."""
    for clause in (root.args.get("order"), root.args.get("group")):
        if clause is None:
            continue
        by_all = clause.args.get("all") or any(isinstance(v, exp.Var) and v.name.upper() == "ALL"
                                               for v in clause.find_all(exp.Var))
        if by_all:
            raise SqlRejected("GROUP/ORDER BY ALL would use a sensitive output; name the columns", clause)
        for literal in clause.find_all(exp.Literal):
            if not literal.is_string and str(literal.this).isdigit() and int(literal.this) - 1 in masked_outputs:
                raise SqlRejected(f"output {literal.this} is a sensitive column: it can be shown masked, but not "
                                  "sorted or grouped on", clause)


def _check_table_column(access: TableAccess, column: exp.Column) -> bool:
    """Rejects a column the role may not use; True when it is a masked one."""
    name = column.name.lower()
    usable = {c.lower() for c in access.columns} - {c.lower() for c in access.denied}
    if name not in usable:
        raise SqlRejected(f"column {access.name}.{name} is not available to this role", column)
    return name in {c.lower() for c in access.masked}


def _check_output_reference(root: exp.Expr, column: exp.Column, masked_outputs: set[int]) -> None:
    """An unqualified column left after qualification must name an output of its own SELECT (ORDER BY x)."""
    clause = column.find_ancestor(exp.Order, exp.Group, exp.Having, exp.Qualify, exp.Distinct, exp.Select)
    if not isinstance(clause, exp.Order | exp.Group | exp.Having | exp.Qualify | exp.Distinct):
        raise SqlRejected(f"cannot tell which table column {column.name!r} belongs to", column)
    owner: exp.Expr | None = clause.find_ancestor(exp.Select)
    select = owner
    if isinstance(clause, exp.Order) and isinstance(clause.parent, exp.SetOperation):
        owner = clause.parent  # ORDER BY of UNION / INTERSECT / EXCEPT: the names are the first SELECT's outputs
        select = _first_select(clause.parent)
    names = [p.alias_or_name.lower() for p in select.expressions] if isinstance(select, exp.Select) else []
    name = column.name.lower()
    if name not in names:
        raise SqlRejected(f"cannot tell which table column {column.name!r} belongs to", column)
    if owner is root and names.index(name) in masked_outputs:
        raise SqlRejected(f"output {name!r} is a sensitive column: it can be shown masked, but not sorted "
                          "or grouped on", column)


def _first_select(operation: exp.SetOperation) -> exp.Expr | None:
    """The leftmost SELECT of a set operation, whose output names the whole operation's outputs carry."""
    left: exp.Expr | None = operation
    while isinstance(left, exp.SetOperation | exp.Subquery):
        left = left.this
    return left


def _column_table(scope: Scope, column: exp.Column) -> str | None:
    """The approved table a qualified column reads, None for a derived source; unresolved is rejected."""
    current: Scope | None = scope
    while current is not None:
        source = current.sources.get(column.table)
        if isinstance(source, exp.Table):
            return source.name.lower()
        if source is not None:
            return None
        current = current.parent
    raise SqlRejected(f"cannot resolve column {column.sql(dialect=DIALECT)}", column)


def _output_positions(root: exp.Expr) -> dict[int, int]:
    """id(column) -> output index, for columns that are plain outputs of a single outer SELECT."""
    if not isinstance(root, exp.Select):
        return {}
    positions = {}
    for index, projection in enumerate(root.expressions):
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        if isinstance(inner, exp.Column):
            positions[id(inner)] = index
    return positions
