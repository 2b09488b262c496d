"""SqlGuard: decides on the syntax tree whether a query may run for a role, and rewrites it into the SQL that runs.

Concrete, not pluggable. Every rule fails closed: what the guard cannot resolve is rejected. The runner
executes the SQL the guard regenerates from the checked tree (comments dropped, stars expanded to allowed
columns, LIMIT clamped), never the caller's text, so tokenizer disagreements cannot smuggle anything through.
"""

import logging
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, SqlglotError, TokenError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope
from sqlglot.schema import MappingSchema

from assistant.errors import FieldError, GovDataError

DIALECT = "duckdb"
MAX_SQL_CHARS = 20_000
DEFAULT_ROW_CAP = 1000
MAX_NESTING = 64  # parentheses deep; legitimate analyst SQL stays far below, the parser recurses per level
MAX_IN_LIST = 1000  # values in one IN (...) list
MAX_SIZE_ARGUMENT = 10_000  # the size a repeat/lpad/rpad/list_resize may ask for (the runner's cell size)
MAX_SERIES = 100_000  # elements of one range/generate_series list
_SIZE_FUNCTIONS = {"list_resize": 1, "array_resize": 1}  # name -> position of the size argument

# The only table functions a query may use as a source (FROM, JOIN, LATERAL, subqueries): an explicit allowlist,
# because DuckDB's table functions and table macros reach catalogs, files and other tables (query_table,
# histogram, summary, sniff_csv, json_each over any text, truncate_duckdb_logs, ...).
ALLOWED_TABLE_FUNCTIONS = frozenset({"unnest"})

# Statement kinds that must not appear anywhere in the tree, with the words a person reads.
_FORBIDDEN_NODES: tuple[tuple[str, str], ...] = (
    ("Insert", "INSERT"), ("Update", "UPDATE"), ("Delete", "DELETE"), ("Merge", "MERGE"),
    ("Create", "CREATE"), ("Drop", "DROP"), ("Alter", "ALTER"), ("AlterColumn", "ALTER"),
    ("TruncateTable", "TRUNCATE"), ("Copy", "COPY"), ("Attach", "ATTACH"), ("Detach", "DETACH"),
    ("Install", "INSTALL"), ("Pragma", "PRAGMA"), ("Set", "SET"), ("Use", "USE"), ("Transaction", "BEGIN"),
    ("Commit", "COMMIT"), ("Rollback", "ROLLBACK"), ("Show", "SHOW"), ("Describe", "DESCRIBE"),
    ("Summarize", "SUMMARIZE"), ("Export", "EXPORT"), ("Grant", "GRANT"), ("Revoke", "REVOKE"),
    ("Kill", "KILL"), ("Analyze", "ANALYZE"), ("Refresh", "REFRESH"), ("Cache", "CACHE"),
    ("Uncache", "UNCACHE"), ("Comment", "COMMENT ON"), ("Command", "a statement sqlglot cannot parse"),
    ("Into", "SELECT INTO"), ("Lock", "FOR UPDATE/SHARE"), ("Placeholder", "a parameter placeholder"),
    ("Parameter", "a parameter"), ("SessionParameter", "a session parameter"), ("Returning", "RETURNING"),
    ("Columns", "COLUMNS(...)"), ("TableColumn", "a whole-row reference (name the columns)"),
    ("PositionalColumn", "a positional column reference (#n); name the column"),
    ("DDL", "a DDL statement"), ("DML", "a data-modifying statement"),
)
_FORBIDDEN: tuple[tuple[type[exp.Expr], str], ...] = tuple(
    (getattr(exp, name), words) for name, words in _FORBIDDEN_NODES if hasattr(exp, name)
)

# Functions that reach outside the approved tables (files, network, settings, catalogs) or change state.
DENIED_FUNCTIONS = frozenset({
    "read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "parquet_metadata", "parquet_schema",
    "read_json", "read_json_auto", "read_json_objects", "read_json_objects_auto", "read_ndjson",
    "read_ndjson_auto", "read_ndjson_objects", "read_text", "read_blob", "read_xlsx", "glob", "query",
    "query_table", "sqlite_scan", "sqlite_attach", "postgres_scan", "postgres_attach", "mysql_scan",
    "getenv", "current_setting", "set_config", "nextval", "currval", "setval", "checkpoint", "force_checkpoint",
    "iceberg_scan", "delta_scan", "st_read", "load_extension", "install_extension", "columns", "http_get",
    "http_post", "which_secret", "enable_profiling", "pg_read_file", "pg_ls_dir", "lo_import", "lo_export",
    "current_schemas", "sql_auto_complete", "json_execute_serialized_sql", "json_serialize_sql",
    "json_deserialize_sql", "test_all_types", "range_table", "pragma", "readcsv", "readparquet",
    # error() raises its argument as the engine's message: a side channel for any value
    "error", "truncate_duckdb_logs", "sniff_csv", "summary", "repeat_row", "histogram_values",
})
DENIED_PREFIXES = ("read_", "duckdb_", "pragma_", "sqlite_", "postgres_", "mysql_", "parquet_", "iceberg_",
                   "delta_", "http", "pg_", "icu_", "st_read", "json_execute", "test_")
SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "system", "temp"})
SYSTEM_TABLES = frozenset({"sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_sequence"})

_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Co", "Cs", "Cn", "Zl", "Zp"})
_AUTO_ALIAS = re.compile(r"^_col_\d+$")


class SqlRejected(GovDataError):
    """The guard refused a query; `reason` is written for the person who asked."""

    def __init__(self, reason: str, node: exp.Expr | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.node = node


@dataclass(frozen=True)
class TableAccess:
    """One approved table as a role sees it: usable columns (name -> type), masked and denied ones."""

    name: str
    columns: Mapping[str, str]
    masked: frozenset[str] = frozenset()
    denied: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Approval:
    """The tables a caller may query, keyed by lower-case name."""

    tables: Mapping[str, TableAccess]

    @classmethod
    def of(cls, tables: list[TableAccess]) -> "Approval":
        return cls({t.name.lower(): t for t in tables})

    def table(self, name: str) -> TableAccess | None:
        return self.tables.get(name.lower())


@dataclass(frozen=True)
class GuardedQuery:
    """A query the guard allowed: the SQL that runs, the tables it reads, output positions to mask."""

    sql: str
    tables: tuple[str, ...]
    masked_outputs: tuple[int, ...] = ()
    limit: int = DEFAULT_ROW_CAP
    limit_applied: bool = False


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str
    sql: str
    query: GuardedQuery | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, object]:
        return {"allowed": self.allowed, "reason": self.reason, "sql": self.sql}


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
        _check_text(sql, self.max_chars)
        root = _parse_single(sql)
        _check_nodes(root)
        _check_bounds(root)
        tables = _check_tables(root, approval)
        _check_sources(root)
        _name_outputs(root)
        qualified = _qualify(root, approval, tables)
        _check_nodes(qualified)
        masked = _check_columns(qualified, approval)
        limited, applied = _clamp_limit(qualified, self.row_cap)
        text = limited.sql(dialect=DIALECT, comments=False)
        _check_round_trip(text)
        return GuardedQuery(text, tuple(sorted(tables)), masked, _limit_of(limited), applied)


def _check_text(sql: str, max_chars: int) -> None:
    if not sql.strip():
        raise SqlRejected("the query is empty")
    if len(sql) > max_chars:
        raise SqlRejected(f"the query is {len(sql):,} characters; the limit is {max_chars:,}")
    for index, char in enumerate(sql):
        if char in "\t\n\r ":
            continue
        category = unicodedata.category(char)
        if category in _INVISIBLE_CATEGORIES or (category == "Zs"):
            raise SqlRejected(f"invisible or control character U+{ord(char):04X} at position {index}")
    _check_comments_and_lookalikes(sql)


def _check_comments_and_lookalikes(sql: str) -> None:
    """Nested or unterminated block comments, and compatibility look-alikes (fullwidth ；) outside strings."""
    depth = 0
    for index, char, context in _scan(sql):
        if context == "code" and char in "([":
            depth += 1
            if depth > MAX_NESTING:
                raise SqlRejected(f"the query nests brackets more than {MAX_NESTING} deep (at position {index}); "
                                  "simplify it")
        elif context == "code" and char in ")]":
            depth = max(0, depth - 1)
        if context == "nested-comment":
            raise SqlRejected(f"nested block comment at position {index}; comments may not nest")
        if context == "unterminated":
            raise SqlRejected("unterminated string, identifier or comment")
        if context == "code" and unicodedata.normalize("NFKC", char) != char:
            raise SqlRejected(f"look-alike character {char!r} (U+{ord(char):04X}) at position {index}; "
                              "use plain ASCII punctuation and keywords")


def _scan(sql: str) -> Iterator[tuple[int, str, str]]:
    """Each code character with its context; flags nested and unterminated comments/quotes."""
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if char in "'\"":
            end = _quote_end(sql, i, char)
            if end < 0:
                yield i, char, "unterminated"
                return
            i = end + 1
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            opened = sql.find("/*", i + 2)
            if close < 0:
                yield i, char, "unterminated"
                return
            if 0 <= opened < close:
                yield opened, "/", "nested-comment"
                return
            i = close + 2
        else:
            yield i, char, "code"
            i += 1


def _quote_end(sql: str, start: int, quote: str) -> int:
    i = start + 1
    while True:
        i = sql.find(quote, i)
        if i < 0:
            return -1
        if sql.startswith(quote * 2, i):
            i += 2
            continue
        return i


def _parse_single(sql: str) -> exp.Expr:
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" is our rejection, not a log
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None and not _comment_only(s)]
    except (ParseError, TokenError) as exc:
        raise SqlRejected(f"not valid DuckDB SQL: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise SqlRejected(f"exactly one statement is allowed; found {len(statements)}")
    root = statements[0]
    while isinstance(root, exp.Subquery) and not root.args.get("alias"):
        root = root.this
    if not isinstance(root, exp.Select | exp.SetOperation):
        raise SqlRejected(f"only a query (SELECT, UNION, WITH ... SELECT) may run; this is {_kind(root)}", root)
    return root


def _comment_only(node: exp.Expr) -> bool:
    """A trailing `; -- note` parses as an empty statement that carries only the comment."""
    return type(node).__name__ == "Semicolon" and not node.args.get("this")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _kind(node: exp.Expr) -> str:
    for cls, words in _FORBIDDEN:
        if isinstance(node, cls):
            return words
    return f"not one (it parses as {node.key.upper()})"


def _check_nodes(root: exp.Expr) -> None:
    for node in root.walk():
        for cls, words in _FORBIDDEN:
            if isinstance(node, cls):
                raise SqlRejected(_forbidden_reason(words), node)
        if isinstance(node, exp.Func):
            _check_function(node)
        if isinstance(node, exp.Limit | exp.Offset) and node.args.get("limit_options"):
            raise SqlRejected("LIMIT/OFFSET must be a whole number of rows", node)


def _forbidden_reason(words: str) -> str:
    if words.isupper() or words.startswith(("a DDL", "a data-modifying", "a statement")):
        return f"{words} is not allowed: only read-only queries may run"
    return f"{words} is not allowed"


def function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def _check_function(node: exp.Func) -> None:
    names = {function_name(node), node.key.lower()}
    for name in names:
        if name in DENIED_FUNCTIONS or name.startswith(DENIED_PREFIXES):
            raise SqlRejected(f"function {name}() is not allowed: it reaches outside the approved tables, changes "
                              "state or leaks values through errors", node)


def _check_bounds(root: exp.Expr) -> None:
    """What a plan cannot show: values that make large results out of nothing (repeat, lpad, range ...) need a
    constant size within the limit; IN lists are capped; a recursive CTE needs a condition that stops it."""
    for node in root.walk():
        if isinstance(node, exp.In) and len(node.expressions) > MAX_IN_LIST:
            raise SqlRejected(f"an IN list has {len(node.expressions):,} values; the limit is {MAX_IN_LIST:,} "
                              "(use a join against a table instead)", node)
        if isinstance(node, exp.Repeat):
            _size_argument(node, node.args.get("times"), "repeat")
        elif isinstance(node, exp.Pad):
            _size_argument(node, node.args.get("expression"), "lpad" if node.args.get("is_left") else "rpad")
        elif isinstance(node, exp.Anonymous) and function_name(node) in _SIZE_FUNCTIONS:
            arguments = node.expressions
            position = _SIZE_FUNCTIONS[function_name(node)]
            _size_argument(node, arguments[position] if len(arguments) > position else None, function_name(node))
        elif isinstance(node, exp.GenerateSeries):
            _check_series(node)
        elif isinstance(node, exp.CTE) and _is_recursive(node):
            _check_recursion_stops(node)


def _whole_number(node: exp.Expr | None) -> int | None:
    if isinstance(node, exp.Neg):
        value = _whole_number(node.this)
        return -value if value is not None else None
    if isinstance(node, exp.Literal) and not node.is_string and str(node.this).isdigit():
        return int(node.this)
    return None


def _size_argument(node: exp.Expr, argument: exp.Expr | None, name: str) -> None:
    size = _whole_number(argument)
    if size is None or size > MAX_SIZE_ARGUMENT:
        raise SqlRejected(f"the size given to {name}() must be a whole number up to {MAX_SIZE_ARGUMENT:,}", node)


def _check_series(node: exp.GenerateSeries) -> None:
    start, end = _whole_number(node.args.get("start")), _whole_number(node.args.get("end"))
    step = _whole_number(node.args.get("step")) if node.args.get("step") is not None else 1
    if start is None or end is None or not step:
        raise SqlRejected("range()/generate_series() needs whole-number constants for its bounds and step", node)
    if abs(end - start) // abs(step) + 1 > MAX_SERIES:
        raise SqlRejected(f"range()/generate_series() would make more than {MAX_SERIES:,} values", node)


def _is_recursive(cte: exp.CTE) -> bool:
    name = cte.alias_or_name.lower()
    return isinstance(cte.this, exp.SetOperation) and any(
        t.name.lower() == name for t in cte.this.expression.find_all(exp.Table))


def _check_recursion_stops(cte: exp.CTE) -> None:
    """The recursive step must compare one of the CTE's own columns in its WHERE (n < 100), or it may never end."""
    step = cte.this.expression
    where = step.args.get("where") if isinstance(step, exp.Select) else None
    own = {c.name.lower() for c in cte.args["alias"].columns} if cte.args.get("alias") and \
        cte.args["alias"].columns else set()
    comparisons = (exp.LT, exp.LTE, exp.GT, exp.GTE, exp.Between, exp.EQ, exp.NEQ)
    stops = where is not None and any(
        isinstance(node, comparisons) and any(not own or c.name.lower() in own for c in node.find_all(exp.Column))
        for node in where.walk())
    if not stops:
        raise SqlRejected(f"recursive query {cte.alias_or_name} has no condition that stops it; add WHERE on its "
                          "recursive column (e.g. WHERE n < 100)", cte)


def _check_sources(root: exp.Expr) -> None:
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
        return  # approved table or CTE: _check_tables decides
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


def _check_tables(root: exp.Expr, approval: Approval) -> set[str]:
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
        raise SqlRejected(f"cannot analyse the query: {_first_line(exc)}") from None


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


def _name_outputs(root: exp.Expr) -> None:
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


def _qualify(root: exp.Expr, approval: Approval, tables: set[str]) -> exp.Expr:
    """Resolve every column to its table; stars expand to the role's columns only (denied ones are absent)."""
    _reject_denied_names(root, approval, tables)
    schema = MappingSchema(
        {name: _usable_columns(approval.tables[name]) for name in tables}, dialect=DIALECT, normalize=True,
    )
    try:
        return qualify(root.copy(), dialect=DIALECT, schema=schema, validate_qualify_columns=True,
                       quote_identifiers=True, identify=False, expand_stars=True)
    except (OptimizeError, SqlglotError) as exc:
        raise SqlRejected(f"cannot resolve the query's columns: {_first_line(exc)}{_quote_hint(root, exc)}") from None


def _quote_hint(root: exp.Expr, exc: Exception) -> str:
    """SQLite reads an unknown "name" as text; DuckDB (and the guard) read it as a column."""
    quoted = {c.name.lower(): c.name for c in root.find_all(exp.Column) if c.this.args.get("quoted")}
    unresolved = re.search(r"Column '([^']*)' could not be resolved", str(exc))
    if unresolved and unresolved.group(1).lower() in quoted:
        text = quoted[unresolved.group(1).lower()].replace("'", "''")
        return f" (double quotes name a column; write text in single quotes: '{text}')"
    return ""


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


def _check_columns(root: exp.Expr, approval: Approval) -> tuple[int, ...]:
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
    select = clause.find_ancestor(exp.Select)
    names = [p.alias_or_name.lower() for p in select.expressions] if select else []
    name = column.name.lower()
    if name not in names:
        raise SqlRejected(f"cannot tell which table column {column.name!r} belongs to", column)
    if select is root and names.index(name) in masked_outputs:
        raise SqlRejected(f"output {name!r} is a sensitive column: it can be shown masked, but not sorted "
                          "or grouped on", column)


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


def _clamp_limit(root: exp.Expr, cap: int) -> tuple[exp.Expr, bool]:
    limit = root.args.get("limit")
    if limit is None:
        if isinstance(root, exp.Select | exp.SetOperation):
            return root.limit(cap, copy=False), True
        raise SqlRejected("cannot add a row limit to this query")
    if isinstance(limit, exp.Fetch):
        raise SqlRejected("use LIMIT n instead of FETCH FIRST")
    value = limit.expression
    if not (isinstance(value, exp.Literal) and not value.is_string and str(value.this).isdigit()):
        raise SqlRejected("LIMIT must be a whole number of rows", limit)
    if int(value.this) > cap:
        limit.set("expression", exp.Literal.number(cap))
        return root, True
    return root, False


def _limit_of(root: exp.Expr) -> int:
    limit = root.args.get("limit")
    return int(limit.expression.this) if limit is not None else DEFAULT_ROW_CAP


def transpile(sql: str, dialect: str) -> str:
    """The guarded DuckDB SQL in another engine's dialect (e.g. postgres), for running it elsewhere."""
    try:
        return sqlglot.transpile(sql, read=DIALECT, write=dialect)[0]
    except (SqlglotError, ValueError) as exc:
        raise FieldError("dialect", _first_line(exc), dialect) from None


def _check_round_trip(text: str) -> None:
    """The regenerated SQL must itself parse to exactly one query (guards against generator surprises)."""
    try:
        statements = [s for s in sqlglot.parse(text, read=DIALECT) if s is not None]
    except SqlglotError:
        raise SqlRejected("the rewritten query did not parse back; refusing to run it") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Select | exp.SetOperation):
        raise SqlRejected("the rewritten query is not a single query; refusing to run it")
