"""Sources: every table is an approved one, named plainly (no system schemas, no column alias lists), and
every FROM/JOIN/LATERAL source is a table, a subquery or an allowed table function."""

from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.scope import Scope, traverse_scope

from assistant.sql.guard.functions import ALLOWED_TABLE_FUNCTIONS, function_name
from assistant.sql.guard.model import DIALECT, Approval, SqlRejected
from core.errors import first_line

SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "system", "temp"})
SYSTEM_TABLES = frozenset({"sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_sequence"})


def check_sources(root: exp.Expr) -> None:
    """One rule for every source position (FROM, JOIN, LATERAL, in any subquery or CTE): approved tables and
    CTEs by name, subqueries, VALUES and the allowlisted table functions; no join that matches columns by
    name (NATURAL), no PIVOT/UNPIVOT (both bind columns the query never names)."""
    for node in root.walk():
        if isinstance(node, exp.Join) and str(node.args.get("method") or "").upper() == "NATURAL":
            raise SqlRejected("NATURAL JOIN matches columns by name, including ones this role cannot see; "
                              "join with ON or USING (column)", node)
        if isinstance(node, exp.Pivot):
            raise SqlRejected("PIVOT/UNPIVOT is not allowed; use GROUP BY with CASE or FILTER", node)
        if isinstance(node, exp.From | exp.Join | exp.Lateral):
            _check_source(node.this)


def _check_source(source: exp.Expr) -> None:
    if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
        return  # approved table or CTE: check_tables decides
    if isinstance(source, exp.Subquery | exp.Values | exp.Lateral):
        return  # a Lateral is checked as a node of its own
    function = source.this if isinstance(source, exp.Table) else source
    if isinstance(function, exp.Func):
        if function_name(function) in ALLOWED_TABLE_FUNCTIONS or isinstance(function, exp.Unnest):
            return
        name = function.sql(dialect=DIALECT).split("(")[0].strip('"').lower()  # as written: range, not generate_series
        raise SqlRejected(f"table function {name}() is not allowed; query approved tables by name", source)
    raise SqlRejected(f"cannot use {source.sql(dialect=DIALECT)[:60]!r} as a table; query approved tables by name",
                      source)


def check_tables(root: exp.Expr, approval: Approval) -> set[str]:
    """Every table reference resolves, through its scope, to itself (a real table, which must be approved) or
    to a CTE; anything else (a duplicate alias, a reference no scope owns) is rejected."""
    real: dict[int, str] = {}
    derived: set[int] = set()
    for scope in _scopes(root):
        for table in scope.tables:
            source = scope.sources.get(table.alias_or_name)
            if source is table:
                real[id(table)] = _approved_table(table, approval)
                _check_no_column_aliases(table)
            elif isinstance(source, Scope) and not isinstance(table.this, exp.Func):
                derived.add(id(table))
            else:
                _approved_table(table, approval)  # the specific reason when there is one
                raise SqlRejected(f"cannot resolve table {table.sql(dialect=DIALECT)!r} (a duplicate alias?)", table)
    for table in root.find_all(exp.Table):
        if id(table) not in real and id(table) not in derived:
            _approved_table(table, approval)
            raise SqlRejected(f"cannot resolve table {table.sql(dialect=DIALECT)!r}", table)
    return set(real.values())


def _check_no_column_aliases(table: exp.Table) -> None:
    """`people AS x(a, b)` renames the table's real columns by position, including ones this role cannot see."""
    alias = table.args.get("alias")
    if isinstance(alias, exp.TableAlias) and alias.columns:
        raise SqlRejected(f"a column alias list on table {table.name} renames its columns by position; "
                          "alias the columns in the SELECT list instead", table)


def _scopes(root: exp.Expr) -> list[Scope]:
    try:
        return list(traverse_scope(root))
    except (OptimizeError, SqlglotError) as exc:
        raise SqlRejected(f"cannot analyse the query: {first_line(exc)}") from None


def _approved_table(table: exp.Table, approval: Approval) -> str:
    if not isinstance(table.this, exp.Identifier):
        name = table.this.sql(dialect=DIALECT).split("(")[0].lower()
        raise SqlRejected(f"table function {name}() is not allowed; query approved tables by name", table)
    name, schema = table.name.lower(), table.db.lower()
    if schema in SYSTEM_SCHEMAS or name in SYSTEM_TABLES or name.startswith(("duckdb_", "pragma_")):
        raise SqlRejected(f"system catalog {table.sql(dialect=DIALECT)} is not allowed", table)
    if schema or table.catalog:
        raise SqlRejected(f"schema-qualified table {table.sql(dialect=DIALECT)} is not allowed; use the table name")
    if approval.table(name) is None:
        raise SqlRejected(f"table {table.name!r} is not an approved table for this role", table)
    return name
