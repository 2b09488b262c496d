"""The engine wall: a role's query reaches only relations that hold what the role may read.

The guard enumerates syntax, and DuckDB's syntax is larger than any list (`ssn.split('-')` and `p.to_json()` once
read every denied column). So each access profile — the tables a role may query, the columns it may read raw, the
columns it sees masked, and a row filter — gets a DuckDB file of its own: denied columns absent, masked columns
already replaced by the mask, rows outside the filter absent. The role's queries open that file read-only; the
approved database is not attached to that connection under any name, so no form of SQL can reach it.

For a role under disclosure control (issue 35), a table about people also gets a record key column: a keyed hash of
the unit (or of the row when the table names no unit column), which the rewrite of `sdc_rewrite.py` counts units
and forms cell keys with; the guard never lets a query name it. The unit column itself (person_id, say) is not in
the file at all, and the table's rows are held in record-key order: no id, pseudonym or row position can pick a
person out (`person_id IN (<four known women>) OR (person_id = 101 AND diagnosis = ...)` padded a group to exactly
k and told a diagnosis). `count(DISTINCT person_id)` still counts people: the rewrite counts record keys instead.

A profile's file is named by a hash of what it holds (tables, versions, columns, masks, filters), so a changed
registry or grading decision makes a new file and an old one is never read for a new profile. Files unused for a
day are removed when another profile is built.
"""

import hashlib
import json
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from assistant.sql.guard import Approval
from assistant.sql.sdc import RECORD_KEY_PRIME
from core.errors import GovDataError, first_line
from core.files import file_lock
from ingest.tables import RegisteredTable, quote

MASK = "***"
MASKED_TYPE = "VARCHAR"
PROFILE_FILE = "approved.duckdb"  # the same name as the approved database: engine messages read the same
_BASE_ALIAS = "govdata_profile_source"
_UNUSED_S = 24 * 3600
RECORD_KEY = "__govdata_rk"
ROW_UNIT = "#row"  # a record key per row: the table names no unit column
_PROFILE_FORMAT = 3  # in each profile's name: unit columns left out, rows in record-key order, empty units negative


@dataclass(frozen=True)
class Relation:
    """One table as a profile holds it: readable columns (name, type) in table order, masked ones, a row filter."""

    name: str
    version: str
    columns: tuple[tuple[str, str], ...]
    masked: frozenset[str] = frozenset()
    row_filter: str = ""  # a DuckDB predicate over the approved table; empty: every row
    record_key: str = ""  # disclosure control: the unit column the record key hashes (ROW_UNIT: the row); "": none

    def expression(self, column: str) -> str:
        if column in self.masked:
            return f"CASE WHEN {quote(column)} IS NULL THEN NULL ELSE '{MASK}' END AS {quote(column)}"
        return quote(column)

    def held(self) -> dict[str, str]:
        """Column -> type as the profile's relation holds it (masked columns are text; the record key a BIGINT)."""
        held = {name: MASKED_TYPE if name in self.masked else kind for name, kind in self.columns}
        return {**held, RECORD_KEY: "BIGINT"} if self.record_key else held

    def record_key_sql(self) -> str:
        """The record key as the profile's file holds it: md5 of the secret and the unit (or the row), modulo a
        prime; the secret is the statement's one parameter. A row whose unit column is empty is a unit of its own,
        with a negative key, so counting the unit column (`count(person_id)`) leaves it out as SQL would."""
        row = "'row:' || CAST(rowid AS VARCHAR)"
        if self.record_key == ROW_UNIT:
            return f"CAST(md5_number(? || {row}) % {RECORD_KEY_PRIME} AS BIGINT) AS {quote(RECORD_KEY)}"
        unit = quote(self.record_key)
        return (f"CAST(md5_number(? || coalesce('unit:' || CAST({unit} AS VARCHAR), {row})) % {RECORD_KEY_PRIME} "
                f"AS BIGINT) * (CASE WHEN {unit} IS NULL THEN -1 ELSE 1 END) AS {quote(RECORD_KEY)}")


@dataclass(frozen=True)
class AccessProfile:
    """What one access profile may read, relation by relation; `full` when it is the whole approved database."""

    relations: tuple[Relation, ...]
    denied: Mapping[str, frozenset[str]] = field(default_factory=dict, compare=False)
    full: bool = False

    @property
    def key(self) -> str:
        """Names what the profile's file holds: the tables' versions, columns, masks and filters."""
        return self._hash(with_versions=True)

    @property
    def shape(self) -> str:
        """Names what the profile may read whatever the data's versions (a PostgreSQL login is one per shape)."""
        return self._hash(with_versions=False)

    def _hash(self, *, with_versions: bool) -> str:
        payload = [[r.name, r.version if with_versions else "", [list(c) for c in r.columns], sorted(r.masked),
                    r.row_filter, *([r.record_key, _PROFILE_FORMAT] if r.record_key else [])]
                   for r in sorted(self.relations, key=lambda r: r.name)]
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()[:20]

    def wall(self) -> "Wall":
        return Wall({r.name.lower(): {c.lower(): t for c, t in r.held().items()} for r in self.relations},
                    {name.lower(): frozenset(c.lower() for c in cols) for name, cols in self.denied.items()})


@dataclass(frozen=True)
class Wall:
    """What the runner checks on the connection and the plan: each relation's columns (lower-case name -> type)
    and, per table, the column names of the approved table that this profile may not read at all."""

    relations: Mapping[str, Mapping[str, str]]
    denied: Mapping[str, frozenset[str]] = field(default_factory=dict)


def profile_of(approval: Approval, tables: list[RegisteredTable], every: list[RegisteredTable],
               row_filters: Mapping[str, str] | None = None,
               record_keys: Mapping[str, str] | None = None) -> AccessProfile:
    """The profile of an approval over the registered tables; `every` tells whether it is the whole database.
    `record_keys`: table -> unit column (or ROW_UNIT) for the tables under disclosure control."""
    filters, keys = row_filters or {}, record_keys or {}
    relations, denied = [], {}
    for table in tables:
        access = approval.table(table.name)
        if access is None:
            continue
        gone = {c.lower() for c in access.denied}
        unit = keys.get(table.name, "")
        held_out = gone | ({unit.lower()} if unit not in ("", ROW_UNIT) else set())  # counted through the key
        columns = tuple((c.name, c.type) for c in table.columns if c.name.lower() not in held_out)
        masked = frozenset(c.name for c in table.columns if c.name in access.masked and c.name.lower() not in held_out)
        relations.append(Relation(table.name, table.version, columns, masked, filters.get(table.name, ""), unit))
        denied[table.name] = frozenset(c.name for c in table.columns if c.name.lower() in gone)
    full = (len(relations) == len(every) and not any(denied.values())
            and not any(r.masked or r.row_filter or r.record_key for r in relations))
    return AccessProfile(tuple(relations), denied, full)


class ProfileDatabases:
    """The DuckDB files of access profiles under `folder`, built from the approved database on first use."""

    def __init__(self, base: Path, folder: Path, secret: bytes = b"") -> None:
        self.base = base
        self.folder = folder
        self.secret = secret  # disclosure control's key: record keys are keyed hashes

    def database(self, profile: AccessProfile) -> Path:
        """The file that holds exactly what the profile may read (the approved database itself for a full one)."""
        if profile.full:
            return self.base
        path = self.folder / profile.key / PROFILE_FILE
        if not path.is_file():
            with file_lock(self.folder / ".lock"):
                if not path.is_file():
                    self._build(profile, path)
                    self._sweep(keep=profile.key)
        _touch(path.parent)
        return path

    def _build(self, profile: AccessProfile, path: Path) -> None:
        staging = self.folder / f".{profile.key}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            _write_relations(self.base, staging / PROFILE_FILE, profile.relations, self.secret)
            os.replace(staging, path.parent)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def _sweep(self, keep: str) -> None:
        """Remove profile files nobody used for a day (a changed registry leaves its old profiles behind)."""
        cutoff = time.time() - _UNUSED_S
        for entry in self.folder.iterdir():
            if entry.is_dir() and entry.name != keep and entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)


def _write_relations(base: Path, target: Path, relations: tuple[Relation, ...], secret: bytes = b"") -> None:
    """Copy each relation's readable columns (masked ones as the mask), its record key and rows into a new file."""
    source = str(base).replace("'", "''")
    try:
        con = duckdb.connect(str(target))
    except duckdb.Error as exc:
        raise GovDataError(f"cannot create {target}: {first_line(exc)}") from None
    try:
        con.execute(f"ATTACH '{source}' AS {_BASE_ALIAS} (READ_ONLY)")
        for relation in relations:
            columns = ", ".join(relation.expression(name) for name, _ in relation.columns) or "NULL AS no_columns"
            keyed = f", {relation.record_key_sql()}" if relation.record_key else ""
            where = f" WHERE {relation.row_filter}" if relation.row_filter else ""
            # a table about people is held in record-key order: a row's position (a POSITIONAL JOIN, say) then
            # tells nothing, where the source's order (by id, by date of registration) could stand for who it is
            order = f" ORDER BY {quote(RECORD_KEY)}" if relation.record_key else ""
            con.execute(f"CREATE TABLE {quote(relation.name)} AS SELECT {columns}{keyed} "
                        f"FROM {_BASE_ALIAS}.main.{quote(relation.name)}{where}{order}",
                        [secret.hex()] if relation.record_key else [])
        con.execute(f"DETACH {_BASE_ALIAS}")
        con.execute("CHECKPOINT")
    except duckdb.Error as exc:
        raise GovDataError(f"cannot build the access profile's tables from {base}: {first_line(exc)}") from None
    finally:
        con.close()


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass
