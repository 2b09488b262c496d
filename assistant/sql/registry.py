"""Approved tables: a DuckDB file under GOVDATA_HOME plus a JSON registry of what each table is and who may see it.

`add` loads a source in one transaction and rewrites the registry atomically, so a failed add leaves the
tables and the registry as they were. Ad-hoc databases (`--db`) are copied once into a cached DuckDB file.
"""

import json
import re
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from assistant.errors import FieldError, GovDataError
from assistant.files import atomic_write, file_lock
from assistant.policy.access import normalize_access_level
from assistant.sql.guard import Approval, TableAccess
from assistant.sql.tables import ColumnInfo, TableSource, file_digest, load_table, quote, sources_for

REGISTRY_VERSION = 1
_SAMPLE_DISTINCT_MAX = 30
_SAMPLES_KEPT = 12
_EXAMPLES_KEPT = 3
_RANGED = re.compile(r"U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|DOUBLE|FLOAT|REAL|DECIMAL\(\d+,\d+\)|DATE"
                     r"|TIMESTAMP( WITH TIME ZONE)?", re.I)


@dataclass
class RegisteredTable:
    name: str
    title: str
    description: str
    source: str
    format: str
    access_level: str
    version: str
    row_count: int
    columns: list[ColumnInfo]
    publisher: str = ""
    license: str = ""
    registered_at: str = ""

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "RegisteredTable":
        columns = [ColumnInfo(**c) for c in raw.get("columns", [])]
        return cls(**{**raw, "columns": columns})


@dataclass
class Describe:
    """What a steward says about a table: titles, descriptions, units and which columns are sensitive."""

    title: str = ""
    description: str = ""
    publisher: str = ""
    access_level: str = ""
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)


def read_describe(path: Path) -> Describe:
    """A JSON file {"title", "description", "columns": {"col": {"description", "unit", "sensitive"}}}
    or a Frictionless table schema {"fields": [...]}."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FieldError("describe", str(exc), path) from None
    if not isinstance(raw, dict):
        raise FieldError("describe", "expected a JSON object", path)
    columns = raw.get("columns", {})
    if isinstance(raw.get("fields"), list):
        columns = {str(f.get("name")): f for f in raw["fields"] if isinstance(f, dict)}
    if not isinstance(columns, dict) or not all(isinstance(v, dict) for v in columns.values()):
        raise FieldError("describe", "\"columns\" must map column names to objects", path)
    return Describe(str(raw.get("title", "")), str(raw.get("description", "")), str(raw.get("publisher", "")),
                    str(raw.get("access_level", raw.get("accessLevel", ""))), columns)


class Registry:
    """The approved tables under `root` (GOVDATA_HOME/sql)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.database = root / "approved.duckdb"
        self.registry_file = root / "registry.json"

    def tables(self) -> list[RegisteredTable]:
        if not self.registry_file.is_file():
            return []
        try:
            raw = json.loads(self.registry_file.read_text(encoding="utf-8"))
            return [RegisteredTable.from_dict(t) for t in raw["tables"]]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise GovDataError(f"{self.registry_file} is damaged ({exc}); restore it or remove {self.root}") from None

    def add(self, path: Path, *, name: str | None = None, access_level: str | None = None,
            describe: Path | None = None) -> tuple[list[RegisteredTable], bool]:
        """Load PATH as approved table(s), replacing same-named ones; True when all were already current."""
        notes = read_describe(describe) if describe else Describe()
        level = _access_level(access_level or notes.access_level or "public")
        sources = sources_for(path.expanduser().resolve(), name)
        extra = [describe.resolve()] if describe else []
        with self._locked():
            unchanged = self._unchanged(sources, level, extra)
            if unchanged is not None:
                return unchanged, True
            added = self._load(sources, notes, level, extra)
            kept = [t for t in self.tables() if t.name not in {a.name for a in added}]
            self._write_registry(kept + added)
        return added, False

    def _unchanged(self, sources: list[TableSource], level: str, extra: list[Path]) -> list[RegisteredTable] | None:
        """The registered tables when every source is already loaded at this version and level."""
        known = {t.name: t for t in self.tables()}
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
            raise GovDataError(f"{self.database}: cannot open for writing ({_first(exc)}); "
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

    def _write_registry(self, tables: list[RegisteredTable]) -> None:
        payload = {"version": REGISTRY_VERSION, "tables": [asdict(t) for t in sorted(tables, key=lambda t: t.name)]}
        atomic_write(self.registry_file, json.dumps(payload, ensure_ascii=False, indent=1))

    def _locked(self) -> AbstractContextManager[None]:
        return file_lock(self.root / ".lock")

    def approval(self, levels: tuple[str, ...], sensitive: str,
                 tables: list[RegisteredTable] | None = None) -> Approval:
        """The tables a role with these access levels may query; sensitive columns denied, masked or allowed.
        `tables` saves re-reading the registry when the caller already has it."""
        known = self.tables() if tables is None else tables
        return Approval.of([_table_access(t, sensitive) for t in known if t.access_level in levels])


def load_source(con: duckdb.DuckDBPyConnection, source: TableSource, notes: Describe, level: str,
                extra: list[Path]) -> RegisteredTable:
    """Load one source as a table with described, sampled columns; `extra` files count towards its version."""
    columns = load_table(con, source, source.name)
    _describe_columns(columns, source.fields, notes.columns)
    _add_samples(con, source.name, columns)
    row_count = int(con.execute(f"SELECT count(*) FROM {quote(source.name)}").fetchone()[0])  # type: ignore[index]
    return RegisteredTable(
        name=source.name, title=notes.title or source.title or source.name,
        description=notes.description or source.description, source=str(source.path), format=source.format,
        access_level=level, version=file_digest(source.version_parts + extra)[:16], row_count=row_count,
        columns=columns, publisher=notes.publisher or source.publisher, license=source.license,
        registered_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


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


def _describe_columns(columns: list[ColumnInfo], *notes: dict[str, dict[str, Any]]) -> None:
    """Descriptions, units and sensitivity from the datapackage schema, then the steward's describe file."""
    for column in columns:
        for source in notes:
            note = source.get(column.label) or source.get(column.name) or {}
            column.description = str(note.get("description") or note.get("title") or column.description)
            column.unit = str(note.get("unit") or column.unit)
            column.sensitive = bool(note.get("sensitive", column.sensitive))


def _add_samples(con: duckdb.DuckDBPyConnection, table: str, columns: list[ColumnInfo]) -> None:
    """What the model needs to write real comparisons: every value of a low-cardinality text column (up to a
    dozen), a few examples of any other text column, and the range of number and date columns. Sensitive
    columns show no values at all."""
    for column in columns:
        if column.type == "VARCHAR":
            column.numeric_text = _mostly_numbers(con, table, column.name)
        if column.sensitive:
            continue
        if column.type == "VARCHAR":
            values = con.execute(
                f"SELECT DISTINCT {quote(column.name)} FROM {quote(table)} WHERE {quote(column.name)} IS NOT NULL "
                f"LIMIT {_SAMPLE_DISTINCT_MAX + 1}"
            ).fetchall()
            shown = sorted(str(v[0]) for v in values)
            if len(values) <= _SAMPLE_DISTINCT_MAX:
                column.samples = shown[:_SAMPLES_KEPT]
            else:
                column.examples = [v[:40] for v in shown[:_EXAMPLES_KEPT]]
        elif _RANGED.fullmatch(column.type):
            low, high = con.execute(
                f"SELECT min({quote(column.name)}), max({quote(column.name)}) FROM {quote(table)}").fetchone() or (
                None, None)
            if low is not None and high is not None:
                column.range = [_short(low), _short(high)]


def _short(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _mostly_numbers(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    """At least 95% of the non-null values parse as numbers (SQLite and CSV sources often store them as text)."""
    numeric, present = con.execute(
        f"SELECT count(TRY_CAST({quote(column)} AS DOUBLE)), count({quote(column)}) FROM {quote(table)}"
    ).fetchone() or (0, 0)
    return bool(present) and numeric >= 0.95 * present


def _first(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
