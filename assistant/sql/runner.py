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
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import duckdb

from assistant.config import SqlSettings
from assistant.errors import GovDataError
from assistant.sql.guard import GuardedQuery, withheld_list

MASK = "***"
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


def locked_connection(database: Path, limits: RunnerLimits) -> duckdb.DuckDBPyConnection:
    """A read-only DuckDB connection with file/network access off and settings locked."""
    config = {
        "enable_external_access": False, "autoload_known_extensions": False, "autoinstall_known_extensions": False,
        "allow_community_extensions": False, "memory_limit": limits.memory_limit, "threads": limits.threads,
        "lock_configuration": True,
    }
    try:
        return duckdb.connect(str(database), read_only=True, config=config)  # type: ignore[arg-type]
    except duckdb.Error as exc:
        raise GovDataError(f"cannot open {database} read-only: {str(exc).splitlines()[0]}") from None


class QueryRunner:
    """Runs GuardedQuery objects against one DuckDB file."""

    def __init__(self, database: Path, limits: RunnerLimits | None = None) -> None:
        self.database = database
        self.limits = limits or RunnerLimits()

    def run(self, query: GuardedQuery) -> SqlResult:
        started = time.perf_counter()
        con = locked_connection(self.database, self.limits)
        timer = threading.Timer(self.limits.timeout_s, con.interrupt)
        timer.start()
        try:
            plan = _plan(con, query.sql) if query.tables or self.limits.max_estimated_rows else None
            if plan is not None:
                check_plan(plan, query.tables, self.limits.max_estimated_rows)
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
    """What a plan will do, as far as the planner knows: the most rows at any step, tables, table functions."""

    estimated_rows: int
    tables: frozenset[str]
    functions: frozenset[str]
    result_rows: int = 0  # the estimate at the plan's root: the rows it expects to return


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
    peak = 0

    def rows_of(node: dict[str, Any]) -> int:
        nonlocal peak
        info = node.get("extra_info") or {}
        children = [rows_of(child) for child in node.get("children") or []]
        if "Table" in info:
            tables.add(str(info["Table"]).split(".")[-1].strip('"').lower())
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
    return PlanFacts(peak, frozenset(tables), frozenset(functions), max(result, default=0))


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
        text = re.sub(r"'(?:[^']|'')*'", "'…'", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(lines[:2])[:400] if lines else type(exc).__name__


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
