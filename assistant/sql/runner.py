"""QueryRunner: runs a guarded query on DuckDB behind its own walls.

The connection is read-only, external access (files, network, extensions) is off and the configuration is
locked before the query runs, so even SQL that slipped past the guard cannot read a file or write a table.
One deadline covers the whole call (planning, executing, fetching, converting): a timer interrupts the
connection and the fetch loop checks the clock. Results are bounded in the engine: text is cut to
`max_cell_chars` and nested or binary values larger than that come back as NULL with a note, so no single
cell can be bigger than the limit when it reaches Python; at most `row_cap` rows and `max_result_bytes`
are fetched. Engine messages are scrubbed of data values and of names the query did not use.
"""

import base64
import datetime as dt
import json
import math
import re
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import duckdb

from assistant.sql.guard import GuardedQuery, withheld_list
from assistant.sql.walls import MASK, MASKED_TYPE, Wall
from core.errors import GovDataError
from core.settings import SqlSettings

__all__ = ["MASK", "PlanFacts", "QueryFailed", "QueryRunner", "Runner", "RunnerLimits", "SqlResult", "check_plan",
           "check_plan_columns", "check_single_scans", "engine_message", "json_value", "locked_connection"]
CUT_MARK = "…"
_FETCH_BATCH = 256
# DuckDB type ids whose values have no fixed size: bounded in the engine before they are fetched
_TEXT_TYPES = frozenset({"varchar"})
_BINARY_TYPES = frozenset({"blob"})
_NESTED_TYPES = frozenset({"list", "struct", "map", "union", "array", "bit"})


class QueryFailed(GovDataError):
    """DuckDB refused or aborted a query; the message is DuckDB's first line (fed back to the model)."""


@dataclass(frozen=True)
class SqlResult:
    sql: str
    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool
    elapsed_ms: float
    tables: list[str] = field(default_factory=list)
    masked_columns: list[str] = field(default_factory=list)
    dataset_versions: dict[str, str] = field(default_factory=dict)
    receipt_id: int | None = None
    cut_columns: list[str] = field(default_factory=list)  # columns with a value cut at max_cell_chars
    withheld: list[dict[str, str]] = field(default_factory=list)  # [{"column", "reason"}] a star left out
    sdc: dict[str, Any] | None = None  # disclosure control's report when it protected the rows (issue 35)
    grants: list[str] = field(default_factory=list)  # the grants its tables were read through (issue 33)


class Runner(Protocol):
    """What runs a guarded query: QueryRunner (DuckDB) or PostgresRunner, each behind its own walls."""

    def run(self, query: GuardedQuery) -> "SqlResult": ...


@dataclass(frozen=True)
class RunnerLimits:
    timeout_s: float = 10.0
    row_cap: int = 1000
    memory_limit: str = "1GB"
    threads: int = 2
    max_cell_chars: int = 10_000
    max_result_bytes: int = 8_000_000
    max_estimated_rows: int = 1_000_000_000  # 0: no cost check

    @classmethod
    def of(cls, settings: SqlSettings) -> "RunnerLimits":
        return cls(timeout_s=settings.timeout_s, row_cap=settings.row_cap, memory_limit=settings.memory_limit,
                   max_cell_chars=settings.max_cell_chars, max_result_bytes=settings.max_result_bytes,
                   max_estimated_rows=settings.max_estimated_rows)


def locked_connection(database: Path, limits: RunnerLimits, *, shared: bool = False) -> duckdb.DuckDBPyConnection:
    """A read-only DuckDB connection with file/network access off and settings locked. `shared`: the file never
    changes once written (an access profile's), so one open instance serves every query as a new cursor (its own
    connection, ~0.4 ms instead of ~20 ms to open the file); the approved database is opened per query, so a
    steward's `datasets add` can always take its write lock. Plans on it are shaped by the query alone, never by the
    data's statistics (`DATA_BLIND_PLANS`), so the walls that read plans answer the same whatever the data holds."""
    if shared:
        return _shared_instance(database, limits).cursor()
    return _open_locked(database, limits)


# DuckDB's statistics propagation drops a scan whose filter the column's min/max prove empty (`age > 97` when no
# one is older): a plan wall that counts scans would then answer differently for a value just outside the data's
# range, an oracle for a protected column's minimum and maximum (and an estimate of 0 rows would pass the size
# wall that the same query just inside the range fails). It is off on every connection the walls plan on: DuckDB
# refuses two configurations of one file in a process, and a role's file serves protected and open tables alike.
DATA_BLIND_PLANS = "statistics_propagation"

_SHARED: "OrderedDict[tuple[str, str, int], duckdb.DuckDBPyConnection]" = OrderedDict()
_SHARED_LOCK = threading.Lock()
_SHARED_MAX = 16


def _shared_instance(database: Path, limits: RunnerLimits) -> duckdb.DuckDBPyConnection:
    key = (str(database), limits.memory_limit, limits.threads)
    with _SHARED_LOCK:
        instance = _SHARED.get(key)
        if instance is None:
            instance = _SHARED[key] = _open_locked(database, limits)
            while len(_SHARED) > _SHARED_MAX:  # dropped, not closed: cursors in use keep it open until they end
                _SHARED.popitem(last=False)
        _SHARED.move_to_end(key)
        return instance


def _open_locked(database: Path, limits: RunnerLimits) -> duckdb.DuckDBPyConnection:
    config = {
        "enable_external_access": False, "autoload_known_extensions": False, "autoinstall_known_extensions": False,
        "allow_community_extensions": False, "memory_limit": limits.memory_limit, "threads": limits.threads,
        "lock_configuration": True, "disabled_optimizers": DATA_BLIND_PLANS,
    }
    try:
        return duckdb.connect(str(database), read_only=True, config=config)  # type: ignore[arg-type]
    except duckdb.Error as exc:
        raise GovDataError(f"cannot open {database} read-only: {str(exc).splitlines()[0]}") from None


class QueryRunner:
    """Runs GuardedQuery objects against one DuckDB file: with a `wall`, the file of the caller's access profile,
    whose relations are checked against the profile before every query and whose plan may scan nothing else."""

    def __init__(self, database: Path, limits: RunnerLimits | None = None, wall: Wall | None = None,
                 shared: bool = False) -> None:
        self.database = database
        self.limits = limits or RunnerLimits()
        self.wall = wall
        self.shared = shared

    def run(self, query: GuardedQuery) -> SqlResult:
        started = time.perf_counter()
        con = locked_connection(self.database, self.limits, shared=self.shared)
        timer = threading.Timer(self.limits.timeout_s, con.interrupt)
        timer.start()
        try:
            if self.wall is not None:
                check_relations(con, self.wall)
            plan = _plan(con, query.sql) if query.tables or self.limits.max_estimated_rows or self.wall else None
            if plan is not None:
                check_plan(plan, query.tables, self.limits.max_estimated_rows)
                if query.single_scan:
                    check_single_scans(plan, query.single_scan)
                if self.wall is not None:
                    check_plan_columns(plan, self.wall)
            fetched = _Fetch(con, self.limits, started + self.limits.timeout_s, set(query.masked_outputs))
            fetched.run(query.sql)
        finally:
            timer.cancel()
            con.close()
        elapsed = (time.perf_counter() - started) * 1000
        columns, masked = fetched.columns, sorted(set(query.masked_outputs))
        return SqlResult(
            sql=query.sql, columns=columns, rows=fetched.rows, row_count=len(fetched.rows),
            truncated=query.limit_applied and len(fetched.rows) >= query.limit, elapsed_ms=round(elapsed, 1),
            tables=list(query.tables), masked_columns=[columns[i] for i in masked if i < len(columns)],
            cut_columns=[columns[i] for i in sorted(fetched.cut)], withheld=withheld_list(query.withheld),
        )

    def run_raw(self, sql: str, tables: tuple[str, ...] = ()) -> SqlResult:
        """Run SQL on the locked connection with no guard: only for tests that prove the walls hold alone.
        `tables` are the tables the plan may read (none named: the plan's table check is off)."""
        return self.run(GuardedQuery(sql, tables))


# Operators that multiply their inputs and that DuckDB's JSON plan leaves without an estimate.
_PRODUCTS = frozenset({"CROSS_PRODUCT", "NESTED_LOOP_JOIN", "BLOCKWISE_NL_JOIN", "PIECEWISE_MERGE_JOIN",
                       "POSITIONAL_SCAN"})
ALLOWED_PLAN_FUNCTIONS = frozenset({"UNNEST"})  # table functions a plan may run (the guard allows unnest only)


@dataclass(frozen=True)
class PlanFacts:
    """What a plan will do, as far as the planner knows: the most rows at any step, tables, table functions, and
    what each table scan reads (its projected columns and the text of its pushed-down filters)."""

    estimated_rows: int
    tables: frozenset[str]
    functions: frozenset[str]
    result_rows: int = 0  # the estimate at the plan's root: the rows it expects to return
    scans: tuple[tuple[str, tuple[str, ...], str], ...] = ()  # (table, projected columns, filter text)
    operators: frozenset[str] = frozenset()  # the plan's operator names (WINDOW, HASH_GROUP_BY, ...)


def _plan(con: duckdb.DuckDBPyConnection, sql: str) -> PlanFacts | None:
    try:
        rows = con.execute("EXPLAIN (FORMAT JSON) " + sql).fetchall()
    except duckdb.Error:
        return None  # the run itself reports the error, scrubbed
    return plan_facts(json.loads(rows[0][1]))


def plan_facts(plan: list[dict[str, Any]]) -> PlanFacts:
    """Walk DuckDB's JSON plan: a step's rows are the planner's estimate, or for a cross product or nested-loop
    join (which carry none) the product of its inputs."""
    tables: set[str] = set()
    functions: set[str] = set()
    scans: list[tuple[str, tuple[str, ...], str]] = []
    operators: set[str] = set()
    peak = 0

    def rows_of(node: dict[str, Any]) -> int:
        nonlocal peak
        info = node.get("extra_info") or {}
        operators.add(str(node.get("name", "")).strip().upper())
        children = [rows_of(child) for child in node.get("children") or []]
        if "Table" in info:
            table = str(info["Table"]).split(".")[-1].strip('"').lower()
            tables.add(table)
            scans.append((table, _listed(info.get("Projections")), _text(info.get("Filters"))))
        if "Function" in info:
            functions.add(str(info["Function"]).upper())
        estimate = str(info.get("Estimated Cardinality", "")).strip()
        if estimate.isdigit():
            rows = int(estimate)
        elif node.get("name") in _PRODUCTS and children:
            rows = math.prod(max(c, 1) for c in children)
        else:
            rows = max(children, default=1)
        peak = max(peak, rows)
        return rows

    result = [rows_of(root) for root in plan]
    return PlanFacts(peak, frozenset(tables), frozenset(functions), max(result, default=0), tuple(scans),
                     frozenset(operators))


def _listed(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return (str(value),) if value else ()


def _text(value: Any) -> str:
    return " ".join(map(str, value)) if isinstance(value, list) else str(value or "")


_NAME = re.compile(r'"((?:[^"]|"")+)"|([^\W\d][\w$]*)')
_LITERAL = re.compile(r"'(?:[^']|'')*'")  # a filter's text constants name no column


def _names_in(expression: str) -> set[str]:
    """The identifiers of an engine expression's text, lower-case, its string constants left out."""
    return {(quoted.replace('""', '"') or bare).lower() for quoted, bare in _NAME.findall(_LITERAL.sub("", expression))}


def check_relations(con: duckdb.DuckDBPyConnection, wall: Wall) -> None:
    """The connection's own tables and columns must be the profile's, no more: a file that holds a column the
    profile does not list (the approved database opened by mistake, say) is refused before anything runs."""
    rows = con.execute("SELECT table_name, column_name, data_type FROM duckdb_columns() "
                       "WHERE database_name = current_database() AND NOT internal").fetchall()
    for table, column, kind in rows:
        held = wall.relations.get(str(table).lower())
        name = str(column).lower()
        if held is None or name not in held or (held[name] == MASKED_TYPE and str(kind) != MASKED_TYPE):
            raise QueryFailed("this database holds more than the caller's access profile allows; refused")


def check_plan_columns(plan: PlanFacts, wall: Wall) -> None:
    """The second wall on the engine's plan: every table scan reads only columns of the profile's relation, and
    names no column the profile denies (in its projections or its pushed-down filters)."""
    for table, projected, filters in plan.scans:
        held = wall.relations.get(table)
        if held is None:
            raise QueryFailed("the query's plan reads a table outside the caller's access profile; refused")
        denied = wall.denied.get(table, frozenset())
        for column in projected:
            if column.lower() not in held:
                raise QueryFailed("the query's plan reads a column outside the caller's access profile; refused")
        if _names_in(filters) & denied:
            raise QueryFailed("the query's plan reads a column outside the caller's access profile; refused")


def check_single_scans(plan: PlanFacts, tables: tuple[str, ...]) -> None:
    """Disclosure control's wall on the plan (issue 35): a table about people is read at most once and no window
    runs, so every output cell is computed from the rows of its own group only. A plan that reads it not at all
    (a filter that can never hold, `WHERE 1 = 0`) reads no one's row and runs: refusing it would make the refusal
    depend on what the planner can prove, an oracle wherever that depends on the data (see DATA_BLIND_PLANS)."""
    for table in tables:
        if sum(1 for scanned, _, _ in plan.scans if scanned == table.lower()) > 1:
            raise QueryFailed(f"the query's plan reads {table} more than once; refused under disclosure control")
    if any("WINDOW" in name for name in plan.operators):
        raise QueryFailed("the query's plan runs a window function; refused under disclosure control")


def check_plan(plan: PlanFacts, approved: tuple[str, ...], max_rows: int) -> None:
    """The runner's own wall on the engine's plan: only the approved tables and table functions, and no step the
    planner expects to produce more than `max_rows` rows."""
    if approved:
        outside = sorted(plan.tables - {t.lower() for t in approved})
        if outside:
            raise QueryFailed("the query's plan reads a table this query was not approved for; refused")
    unknown = sorted(plan.functions - ALLOWED_PLAN_FUNCTIONS)
    if unknown:
        raise QueryFailed(f"the query's plan runs table function {unknown[0].lower()}(), which is not allowed")
    if max_rows and plan.estimated_rows > max_rows:
        raise QueryFailed(f"this query would combine about {_about(plan.estimated_rows)} rows at one step "
                          f"(the limit is {_about(max_rows)}); add a join condition or a filter")


def _about(count: int) -> str:
    for size, word in ((10**12, "trillion"), (10**9, "billion"), (10**6, "million")):
        if count >= size:
            return f"{count / size:.3g} {word}"
    return f"{count:,}"


class _Fetch:
    """One bounded execution: columns and JSON-safe rows, every limit checked before Python holds a value."""

    def __init__(self, con: duckdb.DuckDBPyConnection, limits: RunnerLimits, deadline: float,
                 masked: set[int]) -> None:
        self.con, self.limits, self.deadline, self.masked = con, limits, deadline, masked
        self.columns: list[str] = []
        self.rows: list[list[Any]] = []
        self.cut: set[int] = set()
        self.bytes = 0

    def run(self, sql: str) -> None:
        try:
            self._run(sql)
        except duckdb.InterruptException:
            raise self._timeout() from None
        except duckdb.Error as exc:
            raise QueryFailed(engine_message(exc)) from None
        except (ArithmeticError, ValueError, TypeError, UnicodeError, MemoryError) as exc:
            raise QueryFailed(f"a value in the result cannot be shown ({type(exc).__name__}); "
                              "cast that column to VARCHAR") from None

    def _run(self, sql: str) -> None:
        relation = self.con.sql(sql)
        if relation is None:  # a statement without a result (only reachable through run_raw)
            return
        self.columns = [str(c) for c in relation.columns]
        kinds = [str(t.id) for t in relation.types]
        cursor = self.con.execute(bounded_sql(sql, kinds, self.limits.max_cell_chars))
        width = len(kinds)
        while len(self.rows) < self.limits.row_cap:
            batch = cursor.fetchmany(min(_FETCH_BATCH, self.limits.row_cap - len(self.rows)))
            if not batch:
                break
            for raw in batch:
                self.rows.append(self._row(raw[:width], raw[width:], kinds))
            if time.perf_counter() > self.deadline:
                raise self._timeout()

    def _row(self, values: tuple[Any, ...], too_big: tuple[Any, ...], kinds: list[str]) -> list[Any]:
        row, flags = [], iter(too_big)
        for index, (value, kind) in enumerate(zip(values, kinds, strict=True)):
            oversized = bool(next(flags)) if kind in _BINARY_TYPES | _NESTED_TYPES else False
            row.append(self._cell(index, value, kind, oversized))
        return row

    def _cell(self, index: int, value: Any, kind: str, oversized: bool) -> Any:
        cap = self.limits.max_cell_chars
        if oversized:
            self.cut.add(index)
            value = f"[value larger than {cap:,} characters not shown]"
        elif kind in _TEXT_TYPES and isinstance(value, str) and len(value) > cap:
            self.cut.add(index)
            value = value[:cap] + CUT_MARK
        shown = MASK if index in self.masked and value is not None else json_value(value)
        self.bytes += _size(shown)
        if self.bytes > self.limits.max_result_bytes:
            raise QueryFailed(f"the result is larger than {self.limits.max_result_bytes:,} bytes; select fewer "
                              "or shorter columns, or fewer rows")
        return shown

    def _timeout(self) -> QueryFailed:
        return QueryFailed(f"the query ran longer than {self.limits.timeout_s:g} s and was stopped")


def bounded_sql(sql: str, kinds: list[str], cap: int) -> str:
    """The query wrapped so no value larger than `cap` leaves the engine: text cut to cap + 1 characters (the
    extra one tells Python it was cut), binary and nested values NULL with a flag column when too large."""
    outputs, flags = [], []
    for position, kind in enumerate(kinds, 1):
        ref = f"#{position}"
        if kind in _TEXT_TYPES:
            outputs.append(f"left({ref}, {cap + 1})")
        elif kind in _BINARY_TYPES | _NESTED_TYPES:
            size = f"octet_length({ref})" if kind in _BINARY_TYPES else f"strlen(CAST({ref} AS VARCHAR))"
            outputs.append(f"CASE WHEN {size} > {cap} THEN NULL ELSE {ref} END")
            flags.append(f"coalesce({size} > {cap}, false)")
        else:
            outputs.append(ref)
    if not outputs:
        return sql
    return f"SELECT {', '.join(outputs + flags)} FROM ({sql}) AS govdata_result"


def _size(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | dict):
        return len(str(value))
    return 8


_DATA_ERRORS = ("Conversion Error", "Invalid Input Error", "Out of Range Error", "Constraint Error")
_HINTS = re.compile(r"\s*(Did you mean|Candidate bindings|LINE \d+:).*", re.S)


def engine_message(exc: Exception) -> str:
    """DuckDB's message as one line, without the hints that name other tables or columns ("Did you mean
    ...", candidate bindings), the echoed query, or (for conversion and input errors) the data values."""
    text = _HINTS.sub("", str(exc).strip())
    if text.startswith("Out of Memory Error"):
        return "the query needs more memory than the limit allows; select fewer rows or columns, or aggregate"
    if text.startswith(_DATA_ERRORS):
        text = scrub_values(text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(lines[:2])[:400] if lines else type(exc).__name__


_SINGLE_QUOTED = re.compile(r"'.*'", re.S)  # greedy: a value with a quote inside is hidden whole
_DOUBLE_QUOTED = re.compile(r'".*"', re.S)
_VALUE_NUMBER = re.compile(r"(?<![\w.])-?\d[\d:.\-]*\d(?![\w.])")


def scrub_values(text: str) -> str:
    """A data error without the values it quotes: single- or double-quoted text (from the first quote of a
    kind to its last, so a value holding a quote is hidden whole), dates, times and numbers of several digits."""
    text = text.replace("can't", "cannot")
    text = _SINGLE_QUOTED.sub("'…'", text)
    text = _DOUBLE_QUOTED.sub('"…"', text)
    return _VALUE_NUMBER.sub(lambda m: "…" if len(m.group()) >= 4 or not m.group().isdigit() else m.group(), text)


def json_value(value: Any) -> Any:
    """A JSON-safe form of a DuckDB value (decimals as floats, dates as ISO text)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "base64:" + base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return str(value)
