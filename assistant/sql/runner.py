"""QueryRunner: runs a guarded query on DuckDB behind its own walls.

The connection is read-only, external access (files, network, extensions) is off and the configuration is
locked before the query runs, so even SQL that slipped past the guard cannot read a file or write a table.
A timer interrupts the connection at the wall-clock limit; at most `row_cap` rows are fetched.
"""

import base64
import datetime as dt
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from assistant.config import SqlSettings
from assistant.errors import GovDataError
from assistant.sql.guard import GuardedQuery

MASK = "***"


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


@dataclass(frozen=True)
class RunnerLimits:
    timeout_s: float = 10.0
    row_cap: int = 1000
    memory_limit: str = "1GB"
    threads: int = 2

    @classmethod
    def of(cls, settings: SqlSettings) -> "RunnerLimits":
        return cls(timeout_s=settings.timeout_s, row_cap=settings.row_cap, memory_limit=settings.memory_limit)


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
        con = locked_connection(self.database, self.limits)
        try:
            started = time.perf_counter()
            columns, rows = self._execute(con, query.sql)
            elapsed = (time.perf_counter() - started) * 1000
        finally:
            con.close()
        masked = set(query.masked_outputs)
        values = [[MASK if i in masked and v is not None else json_value(v) for i, v in enumerate(row)]
                  for row in rows]
        return SqlResult(
            sql=query.sql, columns=columns, rows=values, row_count=len(values),
            truncated=query.limit_applied and len(values) >= query.limit, elapsed_ms=round(elapsed, 1),
            tables=list(query.tables), masked_columns=[columns[i] for i in sorted(masked) if i < len(columns)],
        )

    def run_raw(self, sql: str) -> SqlResult:
        """Run SQL on the locked connection with no guard: only for tests that prove the walls hold alone."""
        return self.run(GuardedQuery(sql, ()))

    def _execute(self, con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        timer = threading.Timer(self.limits.timeout_s, con.interrupt)
        timer.start()
        try:
            cursor = con.execute(sql)
            columns = [str(d[0]) for d in cursor.description or []]
            rows = cursor.fetchmany(self.limits.row_cap)
        except duckdb.InterruptException:
            raise QueryFailed(f"the query ran longer than {self.limits.timeout_s:g} s and was stopped") from None
        except duckdb.Error as exc:
            raise QueryFailed(_duckdb_message(exc)) from None
        finally:
            timer.cancel()
        return columns, rows


def _duckdb_message(exc: Exception) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
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
