"""Read a source (CSV/TSV, Parquet, JSON, SQLite, datapackage.json) into a DuckDB table with described, sampled
columns: the registry's approved tables and the ad-hoc `--db` databases both load through `load_source`.

Runs on the steward's write connection, never on the query runner's. SQLite is read through Python's sqlite3
(DuckDB's sqlite extension downloads at run time and fails offline).
"""

import codecs
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from core.errors import GovDataError, first_line
from ingest.tables.model import ColumnInfo, Describe, RegisteredTable, TableSource
from ingest.tables.names import quote, reserved_words, unique_names
from ingest.tables.sources import file_digest

_SAMPLE_DISTINCT_MAX = 30
_SAMPLES_KEPT = 12
_EXAMPLES_KEPT = 3
_RANGED = re.compile(r"U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|DOUBLE|FLOAT|REAL|DECIMAL\(\d+,\d+\)|DATE"
                     r"|TIMESTAMP( WITH TIME ZONE)?", re.I)


def load_source(con: duckdb.DuckDBPyConnection, source: TableSource, notes: Describe, level: str,
                extra: list[Path]) -> RegisteredTable:
    """Load one source as a table with described, sampled columns; `extra` files count towards its version."""
    columns = load_table(con, source, source.name)
    _describe_columns(columns, source.fields, notes.columns)
    _add_samples(con, source.name, columns)
    row_count = int(con.execute(f"SELECT count(*) FROM {quote(source.name)}").fetchone()[0])  # type: ignore[index]
    unit_column = _unit_column(columns, notes, source)
    return RegisteredTable(
        name=source.name, title=notes.title or source.title or source.name,
        description=notes.description or source.description, source=str(source.path), format=source.format,
        access_level=level, version=file_digest(source.version_parts + extra)[:16], row_count=row_count,
        columns=columns, publisher=notes.publisher or source.publisher, license=source.license,
        registered_at=datetime.now(UTC).isoformat(timespec="seconds"), themes=list(notes.themes),
        unit=notes.unit, unit_column=unit_column, k=notes.k,
    )


def _unit_column(columns: list[ColumnInfo], notes: Describe, source: TableSource) -> str:
    """The loaded name of the column the describe file says identifies a unit (by its source name or its own)."""
    if not notes.unit_column:
        return ""
    wanted = notes.unit_column.lower()
    for column in columns:
        if wanted in (column.name.lower(), column.label.lower()):
            return column.name
    raise GovDataError(f"{source.path}: the describe file's unit_column {notes.unit_column!r} is not a column of "
                       "this table")


def load_table(con: duckdb.DuckDBPyConnection, source: TableSource, target: str) -> list[ColumnInfo]:
    """CREATE OR REPLACE TABLE target from the source, with snake-case column names; the columns as loaded."""
    con.execute("DROP TABLE IF EXISTS __govdata_stage")
    if source.format == "sqlite-table":
        _stage_sqlite(con, source.path, source.sqlite_table)
    else:
        reader = {"csv": "read_csv(?, sample_size=-1)", "parquet": "read_parquet(?)",
                  "json": "read_json_auto(?)"}[source.format]
        with _utf8(source) as readable:
            try:
                con.execute(f"CREATE TEMP TABLE __govdata_stage AS SELECT * FROM {reader}", [str(readable)])
            except duckdb.Error as exc:
                raise GovDataError(f"{source.path}: cannot read as {source.format}: {first_line(exc)}") from None
    described = con.execute("DESCRIBE __govdata_stage").fetchall()
    if not described:
        raise GovDataError(f"{source.path}: no columns found")
    labels = [str(row[0]) for row in described]
    names = unique_names(labels, reserved_words(con))
    projection = ", ".join(f"{quote(label)} AS {quote(name)}" for label, name in zip(labels, names, strict=True))
    con.execute(f"CREATE OR REPLACE TABLE {quote(target)} AS SELECT {projection} FROM __govdata_stage")
    con.execute("DROP TABLE __govdata_stage")
    keys = {k.lower(): v for k, v in source.foreign_keys.items()}
    return [ColumnInfo(name, str(row[1]), label=label, joins=[keys[label.lower()]] if label.lower() in keys else [])
            for name, label, row in zip(names, labels, described, strict=True)]


@contextmanager
def _utf8(source: TableSource) -> Iterator[Path]:
    """The source itself when it is UTF-8 (or not text); else a UTF-8 copy of a GB18030 or Big5 CSV, decoded
    the way ingest decodes catalogs, so DuckDB never reads legacy Chinese encodings as garbage."""
    if source.format != "csv" or _is_utf8(source.path):
        yield source.path
        return
    from ingest.documents.readers import decode_text

    text = decode_text(source.path.read_bytes(), source.path)
    with tempfile.TemporaryDirectory(prefix="govdata-csv-") as folder:
        copy = Path(folder) / source.path.name
        copy.write_text(text, encoding="utf-8")
        yield copy


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


_SQLITE_TYPES = (("INT", "BIGINT"), ("CHAR", "VARCHAR"), ("CLOB", "VARCHAR"), ("TEXT", "VARCHAR"),
                 ("BLOB", "BLOB"), ("REAL", "DOUBLE"), ("FLOA", "DOUBLE"), ("DOUB", "DOUBLE"),
                 ("NUM", "DOUBLE"), ("DEC", "DOUBLE"), ("BOOL", "BIGINT"), ("DATE", "VARCHAR"), ("TIME", "VARCHAR"))


def _sqlite_affinity(declared: str) -> str:
    upper = declared.upper()
    for needle, kind in _SQLITE_TYPES:
        if needle in upper:
            return kind
    return "VARCHAR"


def _stage_sqlite(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> None:
    """Copy one SQLite table through Python; a column whose values do not all fit its declared type is text."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as lite:
        lite.text_factory = lambda b: b.decode("utf-8", errors="replace")
        info = lite.execute(f"PRAGMA table_info({quote(table)})").fetchall()
        rows = lite.execute(f"SELECT * FROM {quote(table)}").fetchall()
        declared = {str(c[1]).lower(): _sqlite_affinity(str(c[2] or "")) for c in info}
        declared |= _join_key_affinities(lite, table)
    columns = [str(c[1]) for c in info]
    kinds = [_column_kind(declared[str(c[1]).lower()], [r[i] for r in rows]) for i, c in enumerate(info)]
    definition = ", ".join(f"{quote(c)} {k}" for c, k in zip(columns, kinds, strict=True))
    con.execute(f"CREATE TEMP TABLE __govdata_stage ({definition})")
    if rows:
        values = [[_convert(v, k) for v, k in zip(row, kinds, strict=True)] for row in rows]
        marks = ", ".join("?" for _ in columns)
        con.executemany(f"INSERT INTO __govdata_stage VALUES ({marks})", values)


def _join_key_affinities(lite: sqlite3.Connection, table: str) -> dict[str, str]:
    """A foreign-key column takes its target's numeric type when its values fit: SQLite compares '3' = 3,
    DuckDB refuses to compare VARCHAR with BIGINT, so join keys must share a type."""
    out = {}
    for row in lite.execute(f"PRAGMA foreign_key_list({quote(table)})").fetchall():
        target, column, target_column = str(row[2]), str(row[3]), row[4]
        for info in lite.execute(f"PRAGMA table_info({quote(target)})").fetchall():
            if (target_column is None and info[5]) or str(info[1]).lower() == str(target_column).lower():
                kind = _sqlite_affinity(str(info[2] or ""))
                if kind in ("BIGINT", "DOUBLE"):
                    out[column.lower()] = kind
    return out


def _column_kind(kind: str, values: list[Any]) -> str:
    present = [v for v in values if v is not None and v != ""]
    if kind == "BIGINT" and all(isinstance(v, int) or _is_int_text(v) for v in present):
        return "BIGINT"
    if kind in ("BIGINT", "DOUBLE") and all(isinstance(v, int | float) or _is_float_text(v) for v in present):
        return "DOUBLE"
    if kind == "BLOB" and all(isinstance(v, bytes) for v in present):
        return "BLOB"
    return "VARCHAR"


def _is_int_text(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value) is not None


def _is_float_text(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _convert(value: Any, kind: str) -> Any:
    if value is None or (value == "" and kind != "VARCHAR"):
        return None
    if kind == "BIGINT":
        return int(value)
    if kind == "DOUBLE":
        return float(value)
    if kind == "VARCHAR" and not isinstance(value, str):
        return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
    return value


def _describe_columns(columns: list[ColumnInfo], *notes: dict[str, dict[str, Any]]) -> None:
    """Descriptions, units and sensitivity from the datapackage schema, then the steward's describe file."""
    for column in columns:
        for source in notes:
            note = source.get(column.label) or source.get(column.name) or {}
            column.description = str(note.get("description") or note.get("title") or column.description)
            column.unit = str(note.get("unit") or column.unit)
            column.sensitive = bool(note.get("sensitive", column.sensitive))


def described_values(con: duckdb.DuckDBPyConnection, table: str, columns: list[ColumnInfo]) -> list[ColumnInfo]:
    """Copies of `columns` with their values, ranges and text kinds read again from `table` on `con` (a grantee's
    relation holds only some rows: its hints must come from those rows alone)."""
    fresh = [replace(c, samples=[], examples=[], range=[], distinct=0, numeric_text=False, date_text=False)
             for c in columns]
    _add_samples(con, table, fresh)
    return fresh


def _add_samples(con: duckdb.DuckDBPyConnection, table: str, columns: list[ColumnInfo]) -> None:
    """What the model needs to write real comparisons: the values of a low-cardinality text column (the dozen
    most frequent, with how many there are), a few examples of any other text column, and the range of number
    and date columns. Sensitive columns show no values at all."""
    for column in columns:
        if column.type == "VARCHAR":
            column.numeric_text, column.date_text = _text_kind(con, table, column.name)
        if column.sensitive:
            continue
        if column.type == "VARCHAR":
            name = quote(column.name)
            values = con.execute(  # the most frequent values first: the ones questions are likely to name
                f"SELECT {name}, count(*) AS n FROM {quote(table)} WHERE {name} IS NOT NULL GROUP BY {name} "
                f"ORDER BY n DESC, {name} LIMIT {_SAMPLE_DISTINCT_MAX + 1}"
            ).fetchall()
            if len(values) <= _SAMPLE_DISTINCT_MAX:
                column.samples = [str(v[0]) for v in values[:_SAMPLES_KEPT]]
                column.distinct = len(values)
            else:
                column.examples = [str(v[0])[:40] for v in values[:_EXAMPLES_KEPT]]
        elif _RANGED.fullmatch(column.type):
            low, high = con.execute(
                f"SELECT min({quote(column.name)}), max({quote(column.name)}) FROM {quote(table)}").fetchone() or (
                None, None)
            if low is not None and high is not None:
                column.range = [_short(low), _short(high)]


def _short(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _text_kind(con: duckdb.DuckDBPyConnection, table: str, column: str) -> tuple[bool, bool]:
    """(numbers, dates): at least 95% of the non-null values parse as numbers, or else as dates or timestamps
    ('2015-01-01', '2018/06/03 10:00') — SQLite and CSV sources often store both as text. One scan for both."""
    name = quote(column)
    numbers, dates, present = con.execute(
        f"SELECT count(TRY_CAST({name} AS DOUBLE)), count(TRY_CAST({name} AS TIMESTAMP)), count({name}) "
        f"FROM {quote(table)}"
    ).fetchone() or (0, 0, 0)
    if not present:
        return False, False
    numeric = numbers >= 0.95 * present
    return numeric, not numeric and dates >= 0.95 * present
