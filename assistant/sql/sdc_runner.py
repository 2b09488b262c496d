"""Where disclosure control is applied (issue 35): one runner wrapper that `runner_for` returns for a role under it,
so `sql run`, `sql ask` (every candidate and fix-up), the web workbench (its table, chart and CSV), replays and the
APIs to come all receive protected rows. A query over a table about people runs as its rewrite
(`sdc_rewrite.py`) and comes back through the rules (`sdc.py`); any other query runs as it is."""

import dataclasses
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.sql.guard import GuardedQuery
from assistant.sql.runner import Runner, SqlResult
from assistant.sql.sdc import SdcRules, plural, protect
from assistant.sql.sdc_rewrite import Rewrite, SdcRefused, SdcTable, rewrite
from assistant.sql.walls import ROW_UNIT
from core.errors import GovDataError
from ingest.tables import RegisteredTable

if TYPE_CHECKING:
    from core.state.postgres import PostgresState


@dataclass(frozen=True)
class SdcPolicy:
    """What disclosure control needs for one role's queries: the declared tables it may read, the rules' settings
    and the secret that keys record keys and noise."""

    tables: Mapping[str, SdcTable]
    rules: SdcRules
    secret: bytes = dataclasses.field(repr=False)

    def engine_rows(self) -> int:
        """The row cap the engine's runner needs under this policy (one more than the groups checked together)."""
        return self.rules.max_groups + 1

    def rules_for(self, table: SdcTable) -> SdcRules:
        return dataclasses.replace(self.rules, k=table.k or self.rules.k)


def declared(tables: list[RegisteredTable], default_k: int) -> dict[str, SdcTable]:
    """The tables whose describe file (or an accepted grading decision) says each row is about a unit."""
    return {t.name: SdcTable(t.name, t.unit, t.k or default_k, t.unit_column) for t in tables if t.unit}


def record_keys(tables: list[RegisteredTable]) -> dict[str, str]:
    """Table -> what its record key hashes (the unit column, or each row), for the role's access profile."""
    return {t.name: t.unit_column or ROW_UNIT for t in tables if t.unit}


def secret_of(path: Path) -> bytes:
    """The installation's disclosure-control key (32 random bytes, hex, mode 600), made on first use. Whoever
    holds it can compute the noise, so it stays under GOVDATA_HOME, private to its owner."""
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        raise GovDataError(f"{path}: the disclosure-control key is unreadable ({exc}); restore it from a backup "
                           "(a new key changes every perturbed answer)") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return secret_of(path)  # another process made it first
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return secret_of(path)


def shared_secret_of(state: "PostgresState", seed: Path | None = None) -> bytes:
    """The disclosure-control key of the shared state (issue 34): one for every app server, so the same query gets
    the same perturbed cells and record keys on every host (two keys would let a caller average two answers).
    Made on first use (or taken from `seed`, an embedded home's key, by `state migrate`); the first writer wins."""
    candidate = secret_of(seed) if seed is not None else secrets.token_bytes(32)
    with state.transaction() as con:
        con.execute("INSERT INTO secrets (name, value) VALUES ('sdc.key', %s) ON CONFLICT (name) DO NOTHING",
                    (candidate.hex(),))
        row = con.execute("SELECT value FROM secrets WHERE name = 'sdc.key'").fetchone()
    return bytes.fromhex(str(row[0]))


class SdcRunner:
    """Runs a role's queries under disclosure control around the engine's own runner, which must fetch one row more
    than the rules' `max_groups` (`engine_rows`), to tell a result with too many groups to check together."""

    def __init__(self, inner: Runner, policy: SdcPolicy, *, postgres: bool = False) -> None:
        self.inner = inner
        self.policy = policy
        self.postgres = postgres

    @property
    def max_groups(self) -> int:
        return self.policy.rules.max_groups

    def plan(self, query: GuardedQuery) -> Rewrite | None:
        """The rewrite the query runs as (None: it reads no table about people), or SdcRefused."""
        return rewrite(query.sql, self.policy.tables, self.max_groups, self.policy.rules.dominance_n)

    def run(self, query: GuardedQuery) -> SqlResult:
        planned = self.plan(query)
        if planned is None:
            return self.inner.run(query)
        if self.postgres:
            raise SdcRefused(f"{planned.table.name} is a table about {plural(planned.table.unit)}; disclosure control "
                             "runs on DuckDB only, so it is not queried on PostgreSQL for this role")
        started = time.perf_counter()
        engine = GuardedQuery(planned.sql, query.tables, (), self.max_groups + 1, False, query.withheld,
                              (planned.table.name,))
        result = self.inner.run(engine)
        if result.row_count > self.max_groups:
            raise SdcRefused(f"the query would form more than {self.max_groups:,} groups, which cannot be checked "
                             "together (totals could recover a hidden cell); group by fewer or coarser columns")
        protected = protect(planned.layout, result.rows, self.policy.rules_for(planned.table), self.policy.secret)
        limit = planned.layout.limit
        return dataclasses.replace(
            result, sql=query.sql, columns=protected.columns, rows=protected.rows, row_count=len(protected.rows),
            truncated=limit is not None and query.limit_applied and len(protected.rows) >= limit,
            masked_columns=[], cut_columns=[], sdc=protected.report,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1))
