"""Disclosure control's side of the guard (issue 35): which queries over a table about people may run for a role
that may not see microdata, and the query that runs instead.

A query is accepted when every output is a grouping key, a constant, or one count, sum or avg (with FILTER, and
round() or CAST around it), and everything that decides which rows count and how is a function of one row: the
table is read once, in the outer FROM (no self-join, no subquery or CTE over it, no window, HAVING, QUALIFY,
DISTINCT, set operation, sample or volatile function). The engine then runs a rewrite that keeps the caller's
FROM, WHERE and grouping but builds the outputs itself: per group and per unit first (the record key column the
access profile's file holds), then per group, so each cell comes with the units that contributed, their cell key
and their largest contributions (`sdc.py` reads them). The caller's expressions are wrapped in TRY() and casts
become TRY_CAST, so an engine error cannot tell one person's value either.
"""

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
from sqlglot import exp, parse_one
from sqlglot.errors import SqlglotError

from assistant.sql.guard import DIALECT, function_name
from assistant.sql.runner import QueryFailed, json_value
from assistant.sql.sdc import RECORD_KEY_PRIME, Layout, Measure, Output, plural
from assistant.sql.walls import RECORD_KEY

_VOLATILE = frozenset({"random", "rand", "uuid", "gen_random_uuid", "uuidv4", "uuidv7", "setseed", "now",
                       "current_timestamp", "get_current_timestamp", "current_time", "get_current_time",
                       "transaction_timestamp", "localtimestamp", "localtime", "currenttimestamp", "currenttime",
                       "epoch_ms"})
_NUMERIC_CASTS = {"INT": "int", "INTEGER": "int", "BIGINT": "int", "SMALLINT": "int", "TINYINT": "int",
                  "HUGEINT": "int", "UBIGINT": "int", "DOUBLE": "float", "FLOAT": "float", "REAL": "float",
                  "DECIMAL": "float", "NUMERIC": "float"}


class SdcRefused(QueryFailed):
    """Disclosure control refused a query; `reason` says why and what to write instead."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"disclosure control: {reason}")
        self.reason = f"disclosure control: {reason}"


@dataclass(frozen=True)
class SdcTable:
    """A table declared to be about units (its describe file's `unit`), as the rules need it."""

    name: str
    unit: str
    k: int
    unit_column: str = ""  # the column that identifies a unit: not in the role's file, only counted (walls.py)


@dataclass(frozen=True)
class Rewrite:
    """The SQL that runs instead of the caller's, and how `sdc.protect` reads its rows."""

    sql: str
    layout: Layout
    table: SdcTable


def tables_read(sql: str, tables: Mapping[str, SdcTable]) -> list[SdcTable]:
    """The declared tables a checked query reads (none: the rules do not apply)."""
    try:
        root = parse_one(sql, dialect=DIALECT)
    except SqlglotError:
        return []
    names = {t.name.lower() for t in root.find_all(exp.Table)}
    return [tables[n] for n in sorted(names) if n in tables]


def rewrite(sql: str, tables: Mapping[str, SdcTable], row_cap: int, dominance_n: int = 2) -> Rewrite | None:
    """The protected form of a query the guard checked, None when it reads no declared table, or SdcRefused."""
    root = parse_one(sql, dialect=DIALECT)
    read = tables_read(sql, tables)
    if not read:
        return None
    if len(read) > 1:
        raise SdcRefused(f"{' and '.join(t.name for t in read)} are tables about people, households or businesses; "
                         "a query may read one of them (join it only to tables that are not)")
    table = read[0]
    _check_shape(root, table)
    assert isinstance(root, exp.Select)  # _check_shape refused anything else
    scan = _scan(root, table)
    _check_uncorrelated(root, table)
    _check_unit_counted_only(root, table, scan)
    keys, sets = _grouping(root)
    outputs, measures, filters, arguments = _outputs(root, table, keys)
    arguments = [_counted_by_key(a, table, scan) for a in arguments]
    grouped = root.args.get("group") is not None
    layout = Layout(table.name, table.unit, len(keys), tuple(measures), tuple(outputs), grouped, _definition(root),
                    _order(root, outputs, table), *_limit(root))
    base = _base(root, scan, keys, arguments, filters)
    return Rewrite(_engine_sql(root, base, len(keys), sets, measures, row_cap, dominance_n, table.k), layout, table)


# ---- what may be asked ----

def _refuse_rows(table: SdcTable, what: str) -> SdcRefused:
    return SdcRefused(f"{table.name} is a table about {plural(table.unit)}, and this role may see only aggregates of "
                      f"it: count, sum or avg, grouped by columns (for example SELECT ward, count(*) AS n FROM "
                      f"{table.name} GROUP BY ward); {what}")


def _check_shape(root: exp.Expr, table: SdcTable) -> None:
    if not isinstance(root, exp.Select):
        raise _refuse_rows(table, "UNION, INTERSECT and EXCEPT are not computed over it")
    for node, what in ((exp.Window, "window functions (OVER) read other rows"),
                       (exp.TableSample, "samples change from one run to the next"),
                       (exp.Pivot, "PIVOT is not computed over it")):
        if root.find(node) is not None:
            raise _refuse_rows(table, what)
    for clause in ("having", "qualify"):
        if root.args.get(clause) is not None:
            raise _refuse_rows(table, f"{clause.upper()} filters on exact aggregates; filter rows with WHERE")
    if root.args.get("distinct") is not None:
        raise _refuse_rows(table, "SELECT DISTINCT lists row-level values; use GROUP BY with a count")
    for function in root.find_all(exp.Func):
        name = function_name(function)
        if name in _VOLATILE or function.key.lower() in _VOLATILE:
            raise SdcRefused(f"{name}() is not allowed over {table.name}: answers under disclosure control must be "
                             "the same every time a query runs")


def _scan(root: exp.Select, table: SdcTable) -> exp.Table:
    """The one place the table is read: the outer FROM, or an inner join of it that no outer join makes optional."""
    scans = [t for t in root.find_all(exp.Table) if t.name.lower() == table.name]
    sources = [(root.args.get("from_") or exp.From()).this, *(j.this for j in root.args.get("joins") or [])]
    if len(scans) != 1 or scans[0] not in sources:
        raise _refuse_rows(table, "it may be read once, in the outer FROM (no self-join, subquery or WITH over it)")
    joins = root.args.get("joins") or []
    for join in joins:
        if str(join.args.get("method") or "").upper() not in _ROW_JOINS:
            raise _refuse_rows(table, f"{str(join.args['method']).upper()} JOIN pairs rows by their position or "
                                      "nearest value, not by a key (a row's position can stand for who it is)")
    position = sources.index(scans[0])
    if position > 0 and (joins[position - 1].side or str(joins[position - 1].kind or "").upper() in ("SEMI", "ANTI")):
        raise _refuse_rows(table, f"put {table.name} first in FROM and join the other tables to it")
    if any(str(j.side).upper() in ("RIGHT", "FULL") for j in joins[max(position - 1, 0):]):
        raise _refuse_rows(table, "RIGHT and FULL joins would count rows that are not about anyone")
    return scans[0]


_ROW_JOINS = ("", "NATURAL")  # join methods that pair rows by their values; POSITIONAL and ASOF are refused


def _check_uncorrelated(root: exp.Select, table: SdcTable) -> None:
    """No subquery, LATERAL join or UNNEST reads a column from outside itself: a correlated part runs per row, where
    TRY does not reach (a scalar subquery of more than one row, chr() of a bad code point), and a join condition
    can let only the person singled out reach it, so an error would tell their value. Uncorrelated subqueries over
    other tables still run."""
    for nested in root.find_all(exp.Subquery, exp.Select, exp.Exists, exp.Lateral, exp.Unnest):
        if nested is root:
            continue
        inside = {source.alias_or_name.lower()
                  for source in nested.find_all(exp.Table, exp.Subquery, exp.Unnest, exp.Lateral)}
        if any(column.table and column.table.lower() not in inside for column in nested.find_all(exp.Column)):
            raise _refuse_rows(table, "a subquery, LATERAL join or UNNEST may not refer to columns outside itself "
                                      "(filter with WHERE, or join the tables on a key)")


def _names_unit(node: exp.Expr | None, table: SdcTable, scan: exp.Table) -> bool:
    """A column that names the table's unit column (bare, or qualified by the table's name or alias)."""
    return (isinstance(node, exp.Column) and bool(table.unit_column) and node.name.lower() == table.unit_column.lower()
            and (not node.table or node.table.lower() in (scan.alias_or_name.lower(), table.name)))


def _check_unit_counted_only(root: exp.Select, table: SdcTable, scan: exp.Table) -> None:
    """The unit column (person_id) is not in the role's file; it may only be counted, which the rewrite does with
    the record keys. Anywhere else (a filter, a key, a join, arithmetic) it would pick people out, so it is
    refused with the reason instead of failing as an unknown column."""
    for column in root.find_all(exp.Column):
        if not _names_unit(column, table, scan):
            continue
        parent = column.parent
        while isinstance(parent, exp.Paren):
            parent = parent.parent
        if isinstance(parent, exp.Distinct) and len(parent.expressions) == 1:
            parent = parent.parent
        if not isinstance(parent, exp.Count):
            raise SdcRefused(f"{table.unit_column} identifies each {table.unit} in {table.name}: it can only be "
                             f"counted, as count(DISTINCT {table.unit_column}), not used to filter, group or join "
                             f"(`{_short(column.parent or column)}`)")


def _counted_by_key(argument: exp.Expr | None, table: SdcTable, scan: exp.Table) -> exp.Expr | None:
    """count(DISTINCT person_id) counts the record keys, one per unit, that the role's file holds instead; a row
    with no unit has a negative key and is not counted, as count(person_id) would not count it."""
    while isinstance(argument, exp.Paren):
        argument = argument.this
    if _names_unit(argument, table, scan):
        key = exp.column(RECORD_KEY, table=scan.alias_or_name, quoted=True)
        return exp.If(this=exp.GTE(this=key, expression=exp.Literal.number(0)), true=key.copy())
    return argument


def _grouping(root: exp.Select) -> tuple[list[exp.Expr], list[list[int]]]:
    """The grouping keys and the grouping sets (as key positions); no GROUP BY: no keys, one empty set."""
    group = root.args.get("group")
    if group is None:
        return [], [[]]
    keys: list[exp.Expr] = []

    def position(node: exp.Expr) -> int:
        text = node.sql(dialect=DIALECT)
        for index, key in enumerate(keys):
            if key.sql(dialect=DIALECT) == text:
                return index
        keys.append(node)
        return len(keys) - 1

    if group.args.get("all"):
        plain = [p.unalias() for p in root.expressions if not _has_aggregate(p)]
    else:
        plain = [e for e in group.expressions if not isinstance(e, exp.Rollup | exp.Cube | exp.GroupingSets)]
    fixed = [position(e) for e in plain]
    constructs = [e for e in group.expressions if isinstance(e, exp.Rollup | exp.Cube | exp.GroupingSets)]
    for kind in ("rollup", "cube", "grouping_sets"):
        constructs += group.args.get(kind) or []
    if len(constructs) > 1:
        raise SdcRefused("use one ROLLUP, CUBE or GROUPING SETS per query")
    if not constructs:
        return keys, [fixed]
    construct = constructs[0]
    if isinstance(construct, exp.GroupingSets):
        sets = [fixed + [position(e) for e in (s.expressions if isinstance(s, exp.Tuple) else [s.unnest()])]
                for s in construct.expressions]
    else:
        parts = [position(e) for e in construct.expressions]
        if isinstance(construct, exp.Rollup):
            sets = [fixed + parts[:n] for n in range(len(parts), -1, -1)]
        else:
            sets = [fixed + [p for i, p in enumerate(parts) if mask >> i & 1] for mask in range(2 ** len(parts) - 1,
                                                                                                  -1, -1)]
    return keys, sets


@functools.cache
def _engine_aggregates() -> frozenset[str]:
    con = duckdb.connect()
    try:
        rows = con.execute("SELECT DISTINCT lower(function_name) FROM duckdb_functions() "
                           "WHERE function_type = 'aggregate'").fetchall()
    finally:
        con.close()
    return frozenset(str(name) for (name,) in rows)


def _is_aggregate(node: exp.Expr) -> bool:
    if isinstance(node, exp.AggFunc):
        return True
    return isinstance(node, exp.Anonymous) and function_name(node) in _engine_aggregates()


def _has_aggregate(node: exp.Expr) -> bool:
    return any(_is_aggregate(n) for n in node.walk() if isinstance(n, exp.Func))


def _outputs(root: exp.Select, table: SdcTable, keys: list[exp.Expr]
             ) -> tuple[list[Output], list[Measure], list[exp.Expr | None], list[exp.Expr | None]]:
    key_text = [k.sql(dialect=DIALECT) for k in keys]
    outputs: list[Output] = []
    measures: list[Measure] = []
    filters: list[exp.Expr | None] = []
    arguments: list[exp.Expr | None] = []
    for projection in root.expressions:
        name, expression = projection.alias_or_name, projection.unalias()
        if isinstance(expression, exp.Literal | exp.Null | exp.Boolean):
            outputs.append(Output(name, constant=json_value(expression.to_py())))
        elif expression.sql(dialect=DIALECT) in key_text:
            outputs.append(Output(name, key=key_text.index(expression.sql(dialect=DIALECT))))
        else:
            measure, argument, condition = _measure(expression, table)
            outputs.append(Output(name, measure=len(measures)))
            measures.append(measure)
            arguments.append(argument)
            filters.append(condition)
    return outputs, measures, filters, arguments


def _measure(expression: exp.Expr, table: SdcTable) -> tuple[Measure, exp.Expr | None, exp.Expr | None]:
    """One aggregate output: count(*), count(x), count(DISTINCT x), sum(x) or avg(x), with FILTER, inside at most
    one round() and one CAST to a number."""
    digits: int | None = None
    cast = ""
    node = expression
    while isinstance(node, exp.Round | exp.Cast) and _has_aggregate(node):
        if isinstance(node, exp.Round):
            places = node.args.get("decimals")
            if digits is not None or (places is not None and not (isinstance(places, exp.Literal)
                                                                 and str(places.this).isdigit())):
                break
            digits = int(places.this) if places is not None else 0
        else:
            kind = node.to.this.name if hasattr(node.to.this, "name") else str(node.to.this)
            if cast or kind.upper() not in _NUMERIC_CASTS:
                break
            cast = _NUMERIC_CASTS[kind.upper()]
        node = node.this
    condition = None
    if isinstance(node, exp.Filter):
        condition = node.expression.this if isinstance(node.expression, exp.Where) else node.expression
        node = node.this
    kind, argument = _kind(node)
    if kind == "":
        if _has_aggregate(expression):
            raise SdcRefused(f"under disclosure control only count, sum and avg are computed over {table.name}, "
                             "alone or inside round() or CAST (min, max, medians, modes and lists show single "
                             f"{plural(table.unit)}' values): `{_short(expression)}`")
        raise _refuse_rows(table, f"`{_short(expression)}` is a row-level value (neither an aggregate nor a "
                                  "GROUP BY column)")
    for part in (argument, condition):
        if part is not None and _has_aggregate(part):
            raise SdcRefused(f"an aggregate inside another is not computed over {table.name}")
    if kind in ("sum", "avg", "count_distinct") and argument is not None and not _plain(argument):
        raise SdcRefused(f"under disclosure control sum, avg and count(DISTINCT ...) over {table.name} take a column "
                         "or arithmetic on columns and numbers (no CASE, comparison or function, which could make one "
                         "person's value stand out); to count or add up some rows, filter them: count(*) FILTER "
                         "(WHERE sex = 'F'), sum(income) FILTER (WHERE age > 60)")
    family = ("count" if kind in ("count", "count_distinct") else "sum:" + (argument.sql(dialect=DIALECT)
                                                                          if argument is not None else ""))
    if kind == "count_distinct":
        family = "distinct:" + (argument.sql(dialect=DIALECT) if argument is not None else "")
    text = node.sql(dialect=DIALECT) + (f" FILTER {condition.sql(dialect=DIALECT)}" if condition is not None else "")
    return Measure(kind, digits, cast, family, text), argument, condition


_ARITHMETIC = (exp.Column, exp.Identifier, exp.Literal, exp.Paren, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv,
               exp.Neg, exp.Cast, exp.DataType, exp.DataTypeParam)


def _plain(argument: exp.Expr) -> bool:
    """A measured value that is a column or arithmetic on columns, numbers and casts: a CASE, comparison or
    function could give one person a value nobody else has (sum(CASE WHEN id = 101 AND ... THEN 1 ELSE 0.0001
    END) evades the threshold and the dominance rule), so those are written as FILTERs, which the rules count."""
    return all(isinstance(node, _ARITHMETIC) for node in argument.walk())


def _kind(node: exp.Expr) -> tuple[str, exp.Expr | None]:
    if isinstance(node, exp.Count):
        inner = node.this
        if isinstance(inner, exp.Star) or inner is None:
            return "count", None
        if isinstance(inner, exp.Distinct):
            parts = inner.expressions
            return ("count_distinct", parts[0]) if len(parts) == 1 else ("", None)
        return "count", inner
    if isinstance(node, exp.Sum | exp.Avg) and not isinstance(node.this, exp.Distinct):
        return ("sum" if isinstance(node, exp.Sum) else "avg"), node.this
    if isinstance(node, exp.Anonymous) and function_name(node) == "mean" and len(node.expressions) == 1:
        return "avg", node.expressions[0]
    return "", None


def _short(node: exp.Expr) -> str:
    text = node.sql(dialect=DIALECT)
    return text if len(text) <= 80 else text[:77] + "..."


def _order(root: exp.Select, outputs: list[Output], table: SdcTable) -> tuple[tuple[int, bool], ...]:
    """ORDER BY on outputs only (by name, position or the same expression): it is applied to released values."""
    order = root.args.get("order")
    if order is None:
        return ()
    names = [o.name.lower() for o in outputs]
    texts = [p.unalias().sql(dialect=DIALECT) for p in root.expressions]
    out = []
    for item in order.expressions:
        target = item.this
        if isinstance(target, exp.Column) and not target.table and target.name.lower() in names:
            index = names.index(target.name.lower())
        elif isinstance(target, exp.Literal) and str(target.this).isdigit():
            index = int(target.this) - 1
        elif target.sql(dialect=DIALECT) in texts:
            index = texts.index(target.sql(dialect=DIALECT))
        else:
            raise SdcRefused(f"under disclosure control ORDER BY may name only output columns of the query over "
                             f"{table.name} (it sorts the released values): `{_short(target)}`")
        if not 0 <= index < len(outputs):
            raise SdcRefused("ORDER BY names an output the query does not have")
        out.append((index, bool(item.args.get("desc"))))
    return tuple(out)


def _limit(root: exp.Select) -> tuple[int | None, int]:
    def number(clause: str) -> int | None:
        node = root.args.get(clause)
        value = node.expression if node is not None else None
        return int(value.this) if isinstance(value, exp.Literal) and str(value.this).isdigit() else None

    return number("limit"), number("offset") or 0


def _definition(root: exp.Select) -> str:
    """What selects and groups the rows, in the guard's words: the query layer's seed (with each measure's text)."""
    parts = [root.args.get(c) for c in ("with_", "from_", "joins", "where", "group")]
    return json.dumps([_text(p) for p in parts], ensure_ascii=False)


def _text(part: object) -> object:
    if isinstance(part, list):
        return [_text(p) for p in part]
    return part.sql(dialect=DIALECT) if isinstance(part, exp.Expr) else None


# ---- the query that runs ----

def _tried(node: exp.Expr) -> exp.Expr:
    """The expression with no runtime error left: casts become TRY_CAST and each part without a subquery or an
    aggregate is wrapped in TRY(), so a failure becomes NULL instead of an answer that tells a value."""
    node = node.transform(lambda n: exp.TryCast(this=n.this, to=n.to) if type(n) is exp.Cast else n, copy=True)
    return _wrap(node)


def _wrap(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Column | exp.Literal | exp.Null | exp.Boolean | exp.Star):
        return node
    blocked = any(isinstance(n, exp.Subquery | exp.Select | exp.Exists) or _is_aggregate(n)
                  for n in node.walk() if isinstance(n, exp.Expr))
    if not blocked:
        return exp.Try(this=node)
    if isinstance(node, exp.Select):
        for clause in ("where",):
            if node.args.get(clause) is not None:
                node.args[clause].set("this", _wrap(node.args[clause].this))
        return node
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expr) and _is_value(value):
            node.set(key, _wrap(value))
        elif isinstance(value, list):
            node.set(key, [_wrap(v) if isinstance(v, exp.Expr) and _is_value(v) else v for v in value])
    return node


def _is_value(node: exp.Expr) -> bool:
    return isinstance(node, exp.Condition | exp.Subquery | exp.Select) and not isinstance(node, exp.DataType)


def _base(root: exp.Select, scan: exp.Table, keys: list[exp.Expr], arguments: list[exp.Expr | None],
          filters: list[exp.Expr | None]) -> exp.Select:
    """One row per row of the caller's FROM and WHERE: the keys, each measure's argument and filter, and the
    unit's record key."""
    alias = scan.alias_or_name
    columns: list[exp.Expr] = [exp.alias_(_tried(k), f"__k{i}", quoted=True) for i, k in enumerate(keys)]
    for i, (argument, condition) in enumerate(zip(arguments, filters, strict=True)):
        columns.append(exp.alias_(_tried(argument) if argument is not None else exp.true(), f"__a{i}", quoted=True))
        columns.append(exp.alias_(exp.Coalesce(this=_tried(condition), expressions=[exp.false()])
                                  if condition is not None else exp.true(), f"__f{i}", quoted=True))
    columns.append(exp.alias_(exp.column(RECORD_KEY, table=alias, quoted=True), "__rk", quoted=True))
    base = exp.Select(expressions=columns)
    base.set("from_", root.args["from_"].copy())
    joins = []
    for join in root.args.get("joins") or []:
        join = join.copy()
        if join.args.get("on") is not None:
            join.set("on", _tried(join.args["on"]))
        joins.append(join)
    if joins:
        base.set("joins", joins)
    if root.args.get("where") is not None:
        base.set("where", exp.Where(this=_tried(root.args["where"].this)))
    return base


def _engine_sql(root: exp.Select, base: exp.Select, keys: int, sets: list[list[int]], measures: list[Measure],
                row_cap: int, dominance_n: int, k: int) -> str:
    key_names = [f'"__k{i}"' for i in range(keys)]
    if len(sets) == 1:
        grouping = ", ".join([*(key_names[i] for i in sets[0]), '"__rk"'])
        level = "0"
    else:
        grouping = "GROUPING SETS (" + ", ".join("(" + ", ".join([*(key_names[i] for i in s), '"__rk"']) + ")"
                                                 for s in sets) + ")"
        level = f"GROUPING({', '.join(key_names)})"
    unit_columns, cell_columns = [], []
    for i, measure in enumerate(measures):
        unit_columns += _per_unit(i, measure)
        cell_columns += _per_cell(i, measure, dominance_n)
    ctes = root.args.get("with_")
    head = ", ".join(c.sql(dialect=DIALECT) for c in ctes.expressions) + ", " if ctes is not None else ""
    keys_sql = "".join(f"{k}, " for k in key_names)
    grouped = root.args.get("group") is not None  # without GROUP BY: one row, even over no rows at all
    outer_group = f" GROUP BY __g{''.join(', ' + name for name in key_names)}" if grouped else ""
    # one grouping set: a group of fewer than k units is never shown and is part of no margin, so it never leaves
    # the engine — the group cap and the result's size then count only groups that may be shown, not ones an
    # attacker pads out of single people (20,000 of them, and one more only when a condition on one person holds)
    small = f" HAVING count(*) >= {k}" if grouped and len(sets) == 1 else ""
    return (f"WITH {head}__sdc_base AS ({base.sql(dialect=DIALECT)}), "
            f"__sdc_units AS (SELECT {level} AS __g, {keys_sql}\"__rk\", {', '.join(unit_columns)} "
            f"FROM __sdc_base GROUP BY {grouping}) "
            f"SELECT {'__g' if grouped else '0'}, count(*) AS __units, {keys_sql}{', '.join(cell_columns)} "
            f"FROM __sdc_units{outer_group}{small} LIMIT {row_cap + 1}")


def _per_unit(i: int, measure: Measure) -> list[str]:
    """Each unit's part of a measure in its group."""
    where = f' FILTER (WHERE "__f{i}")'
    if measure.kind == "count":
        return [f'count("__a{i}"){where} AS __m{i}']
    if measure.kind == "count_distinct":
        return [f'list(DISTINCT "__a{i}") FILTER (WHERE "__f{i}" AND "__a{i}" IS NOT NULL) AS __m{i}']
    # in DOUBLE, each row's value at most 1e280 (a larger one counts as NULL, as under a FILTER the rules see):
    # no total can overflow, so neither an engine error (HUGEINT, DECIMAL) nor an overflowing sum tells whether
    # one person's value, scaled by a huge constant, crosses a line
    value = f'TRY_CAST("__a{i}" AS DOUBLE)'
    capped = f"(CASE WHEN abs({value}) <= {_LARGEST} THEN {value} END)"
    out = [f"{_finite(f'sum({capped}){where}')} AS __m{i}"]
    if measure.kind == "avg":
        out.append(f"count({capped}){where} AS __n{i}")
    out.append(f'any_value(typeof("__a{i}")) AS __t{i}')  # the argument's type, the same on every row
    return out


_LARGEST = "1e280"  # times any number of rows a query can read in its time limit, still far below DOUBLE's 1.8e308


def _finite(aggregate: str) -> str:
    return f"(CASE WHEN isfinite({aggregate}) THEN {aggregate} END)"


def _key(condition: str) -> str:
    return f"CAST(coalesce(sum(\"__rk\") FILTER (WHERE {condition}), 0) % {RECORD_KEY_PRIME} AS BIGINT)"


def _per_cell(i: int, measure: Measure, dominance_n: int) -> list[str]:
    """A measure's value and companions per group: value, units, cell key (then top contributions, the total of
    absolute contributions and the argument's type for sums; then the count's three for means)."""
    if measure.kind == "count":
        present = f"__m{i} > 0"
        return [f"sum(__m{i})", f"count(*) FILTER (WHERE {present})", _key(present)]
    if measure.kind == "count_distinct":
        present = f"len(__m{i}) > 0"
        return [f"len(list_distinct(flatten(list(__m{i}))))", f"count(*) FILTER (WHERE {present})", _key(present)]
    present = f"__m{i} IS NOT NULL AND __m{i} <> 0"
    out = [_finite(f"sum(__m{i})"), f"count(*) FILTER (WHERE {present})", _key(present),
           f"max(abs(__m{i}), {max(dominance_n, 1)})", _finite(f"sum(abs(__m{i}))"), f"any_value(__t{i})"]
    if measure.kind == "avg":
        counted = f"__n{i} > 0"
        out += [f"sum(__n{i})", f"count(*) FILTER (WHERE {counted})", _key(counted)]
    return out
