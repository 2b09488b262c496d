"""Approved tables: a DuckDB file under GOVDATA_HOME plus a JSON registry of what each table is and who may see it.

`add` loads a source in one transaction and rewrites the registry atomically, so a failed add leaves the
tables and the registry as they were. Reading and loading files is ingest work (`ingest/tables/`); this module
decides what is registered and who may see it.
"""

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import duckdb

from assistant.register.grading import Decisions, DecisionStore, apply_to_tables, decisions_path
from assistant.sql.guard import Approval, TableAccess
from core.access import normalize_access_level
from core.errors import FieldError, GovDataError, first_line
from core.files import atomic_write, file_lock
from ingest.tables import Describe, RegisteredTable, TableSource, file_digest, load_source, read_describe, sources_for
from ingest.tables.sources import named_path

if TYPE_CHECKING:
    from core.state.postgres import PostgresState

REGISTRY_VERSION = 1


class TableRegistry(Protocol):
    """What each approved table is and who may see it: registry.json (embedded) or the shared state's
    `approved_tables` (issue 34). `locked` serialises changes (a lock file; an advisory lock across hosts)."""

    def read(self) -> list[RegisteredTable]: ...

    def write(self, tables: list[RegisteredTable]) -> None: ...

    def locked(self) -> AbstractContextManager[None]: ...


class RegistryFile:
    """GOVDATA_HOME/sql/registry.json, rewritten whole and atomically under the folder's lock file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "registry.json"

    def read(self) -> list[RegisteredTable]:
        if not self.path.is_file():
            return []
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return [RegisteredTable.from_dict(t) for t in raw["tables"]]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise GovDataError(f"{self.path} is damaged ({exc}); restore it or remove {self.root}") from None

    def write(self, tables: list[RegisteredTable]) -> None:
        payload = {"version": REGISTRY_VERSION, "tables": [asdict(t) for t in sorted(tables, key=lambda t: t.name)]}
        atomic_write(self.path, json.dumps(payload, ensure_ascii=False, indent=1))

    def locked(self) -> AbstractContextManager[None]:
        return file_lock(self.root / ".lock")


class PostgresRegistry:
    """The registry in the shared state: one row per table (its JSON), replaced whole in one transaction."""

    def __init__(self, state: "PostgresState") -> None:
        self.state = state

    def read(self) -> list[RegisteredTable]:
        with self.state.connection() as con:
            rows = con.execute("SELECT spec FROM approved_tables ORDER BY name COLLATE \"C\"").fetchall()
        return [RegisteredTable.from_dict(json.loads(row[0])) for row in rows]

    def write(self, tables: list[RegisteredTable]) -> None:
        with self.state.transaction() as con:
            con.execute("DELETE FROM approved_tables")
            for table in sorted(tables, key=lambda t: t.name):
                con.execute("INSERT INTO approved_tables (name, spec) VALUES (%s, %s)",
                            (table.name, json.dumps(asdict(table), ensure_ascii=False)))

    def locked(self) -> AbstractContextManager[None]:
        return self.state.locked("approved_tables")


class ApprovedTables:
    """The approved tables under `root` (GOVDATA_HOME/sql): the DuckDB file and the registry (its file, or the
    shared state's table, when the DuckDB file is this host's copy of what PostgreSQL holds)."""

    def __init__(self, root: Path, decisions: DecisionStore | Path | None = None,
                 registry: TableRegistry | None = None) -> None:
        self.root = root
        self.database = root / "approved.duckdb"
        self.registry_file = root / "registry.json"
        self.registry = registry if registry is not None else RegistryFile(root)
        self.decisions: DecisionStore = (Decisions(decisions) if isinstance(decisions, Path) else
                                         decisions or Decisions(decisions_path(root.parent)))

    def tables(self) -> list[RegisteredTable]:
        """The approved tables as the policy sees them: the steward's accepted grading decisions applied (columns
        flagged sensitive, levels made stricter), whatever the tables' files and describe files said."""
        return apply_to_tables(self.stored_tables(), self.decisions)

    def stored_tables(self) -> list[RegisteredTable]:
        """The tables as registered, before grading decisions (what the registry itself holds)."""
        return self.registry.read()

    def add(self, path: Path, *, name: str | None = None, access_level: str | None = None,
            describe: Path | None = None,
            prepare: Callable[[list[RegisteredTable]], None] | None = None,
            publish: Callable[[list[RegisteredTable]], None] | None = None) -> tuple[list[RegisteredTable], bool]:
        """Load PATH as approved table(s), replacing same-named ones; True when all were already current.
        Under the registry's lock, `prepare` runs first with the tables registered now, and `publish` with the
        new registry before it is written (shared state: this host's DuckDB copy brought up to date, then the
        tables copied to PostgreSQL, so no host lists a table it cannot query)."""
        notes = read_describe(describe) if describe else Describe()
        level = _access_level(access_level or notes.access_level or "public")
        sources = sources_for(named_path(path), name)
        extra = [describe.resolve()] if describe else []
        with self.registry.locked():
            if prepare is not None:
                prepare(self.stored_tables())
            unchanged = self._unchanged(sources, level, extra)
            if unchanged is not None:
                return unchanged, True
            added = self._load(sources, notes, level, extra)
            kept = [t for t in self.stored_tables() if t.name not in {a.name for a in added}]
            if publish is not None:
                publish(kept + added)
            self.registry.write(kept + added)
        return added, False

    def _unchanged(self, sources: list[TableSource], level: str, extra: list[Path]) -> list[RegisteredTable] | None:
        """The registered tables when every source is already loaded at this version and level."""
        known = {t.name: t for t in self.stored_tables()}
        found = []
        for source in sources:
            table = known.get(source.name)
            if table is None or table.access_level != level or table.source != str(source.path) or (
                    table.version != file_digest(source.version_parts + extra)[:16]):
                return None
            found.append(table)
        return found if self.database.is_file() else None

    def _load(self, sources: list[TableSource], notes: Describe, level: str,
              extra: list[Path]) -> list[RegisteredTable]:
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(self.database))
        except duckdb.Error as exc:
            raise GovDataError(f"{self.database}: cannot open for writing ({first_line(exc)}); "
                               "is the app or another command using it?") from None
        try:
            con.execute("BEGIN TRANSACTION")
            added = [load_source(con, s, notes, level, extra) for s in sources]
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.close()
        return added

    def approval(self, levels: tuple[str, ...], sensitive: str,
                 tables: list[RegisteredTable] | None = None) -> Approval:
        """The tables a role with these access levels may query; sensitive columns denied, masked or allowed.
        `tables` saves re-reading the registry when the caller already has it."""
        known = self.tables() if tables is None else tables
        return Approval.of([_table_access(t, sensitive) for t in known if t.access_level in levels])


def full_approval(tables: list[RegisteredTable]) -> Approval:
    """Every table and column approved, none sensitive: an ad-hoc `--db` database."""
    return Approval.of([TableAccess(t.name, {c.name: c.type for c in t.columns}) for t in tables])


def _table_access(table: RegisteredTable, sensitive: str) -> TableAccess:
    flagged = frozenset(c.name for c in table.columns if c.sensitive)
    return TableAccess(
        table.name, {c.name: c.type for c in table.columns},
        masked=flagged if sensitive == "mask" else frozenset(),
        denied=flagged if sensitive == "deny" else frozenset(),
    )


def _access_level(value: str) -> str:
    try:
        return normalize_access_level(value)
    except ValueError as exc:
        raise FieldError("access_level", str(exc)) from None


