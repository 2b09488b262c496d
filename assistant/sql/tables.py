"""Read a source (CSV/TSV, Parquet, JSON, SQLite, datapackage.json) into DuckDB tables with described columns.

Runs on the steward's write connection, never on the query runner's. SQLite is read through Python's sqlite3
(DuckDB's sqlite extension downloads at run time and fails offline).
"""

import codecs
import hashlib
import json
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from assistant.errors import GovDataError
from ingest.catalogs.datapackage import package_license, package_publisher, resources, schema_fields

TABULAR_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".json": "json",
                    ".jsonl": "json", ".ndjson": "json", ".sqlite": "sqlite", ".sqlite3": "sqlite", ".db": "sqlite"}
_SQLITE_MAGIC = b"SQLite format 3\x00"
_NAME_CHARS = re.compile(r"[^0-9a-z_\u3400-\u9fff]+")


@dataclass
class ColumnInfo:
    name: str
    type: str
    label: str = ""
    description: str = ""
    unit: str = ""
    sensitive: bool = False
    samples: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)  # "table.column" this column refers to
    numeric_text: bool = False  # text column whose values are (almost all) numbers
    examples: list[str] = field(default_factory=list)  # a few values of a column with too many to list
    range: list[str] = field(default_factory=list)  # [min, max] of a number or date column


@dataclass
class TableSource:
    """One table to load: where its rows come from and what is known about it before loading."""

    name: str
    path: Path
    format: str  # csv | parquet | json | sqlite-table
    title: str = ""
    description: str = ""
    publisher: str = ""
    license: str = ""
    sqlite_table: str = ""
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # original name -> description/unit/type
    foreign_keys: dict[str, str] = field(default_factory=dict)  # original column -> "table.column" (loaded names)
    version_parts: list[Path] = field(default_factory=list)


def snake_name(text: str) -> str:
    """A plain identifier for a table or column: lower snake case, CJK kept, never starting with a digit."""
    name = _NAME_CHARS.sub("_", text.strip().lower()).strip("_") or "column"
    return f"c_{name}" if name[0].isdigit() else name


def unique_names(labels: list[str], reserved: frozenset[str] = frozenset()) -> list[str]:
    """Snake-case names, suffixed where two labels collide or a name is a reserved SQL word (is -> is_)."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        base = snake_name(label)
        base = f"{base}_" if base in reserved else base
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
    return out


def file_digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def sniff_format(path: Path) -> str:
    """csv | parquet | json | sqlite | datapackage | duckdb, by content first and suffix second."""
    if path.is_dir():
        raise GovDataError(f"{path}: is a folder; name a file (a folder of CSV/Parquet can be queried ad hoc)")
    if not path.is_file():
        raise GovDataError(f"no such file: {path}")
    head = path.open("rb").read(64)
    if head.startswith(_SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head[8:12] == b"DUCK":
        return "duckdb"
    if path.name.endswith("datapackage.json"):
        return "datapackage"
    kind = TABULAR_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise GovDataError(f"{path}: unsupported table format {path.suffix or '(no suffix)'}; "
                           "expected CSV, TSV, Parquet, JSON, SQLite or datapackage.json")
    return kind


def sources_for(path: Path, name: str | None) -> list[TableSource]:
    """The tables a file holds: one for CSV/Parquet/JSON, one per table of SQLite or datapackage resource."""
    if path.is_file() and path.stat().st_size == 0:
        raise GovDataError(f"{path}: empty file (0 bytes); there is no table to approve")
    kind = sniff_format(path)
    if kind == "datapackage":
        return _datapackage_sources(path, name)
    if kind == "sqlite":
        return _sqlite_sources(path, name)
    if kind == "duckdb":
        raise GovDataError(f"{path}: a DuckDB file can be queried ad hoc, not registered as approved tables")
    return [TableSource(snake_name(name or path.stem), path, kind, title=name or path.stem, version_parts=[path])]


def _sqlite_sources(path: Path, name: str | None) -> list[TableSource]:
    tables = sqlite_tables(path)
    if not tables:
        raise GovDataError(f"{path}: the SQLite file has no tables")
    prefix = f"{snake_name(name)}_" if name and len(tables) > 1 else ""
    names = {table.lower(): snake_name(name) if name and len(tables) == 1 else prefix + snake_name(table)
             for table in tables}
    return [
        TableSource(names[table.lower()], path, "sqlite-table", title=table, sqlite_table=table,
                    version_parts=[path], foreign_keys=_sqlite_foreign_keys(path, table, names))
        for table in tables
    ]


def _sqlite_foreign_keys(path: Path, table: str, names: dict[str, str]) -> dict[str, str]:
    """column -> "table.column" from the file's declared foreign keys, in loaded (snake-case) names."""
    out = {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        for row in con.execute(f"PRAGMA foreign_key_list({quote(table)})").fetchall():
            target, source_column, target_column = str(row[2]), str(row[3]), row[4]
            if target.lower() not in names:
                continue
            if target_column is None:
                keys = [r for r in con.execute(f"PRAGMA table_info({quote(target)})").fetchall() if r[5]]
                target_column = keys[0][1] if keys else source_column
            out[source_column] = f"{names[target.lower()]}.{snake_name(str(target_column))}"
    return out


def sqlite_tables(path: Path) -> list[str]:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
            rows = con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                               "ORDER BY name").fetchall()
    except sqlite3.DatabaseError as exc:
        raise GovDataError(f"{path}: cannot read SQLite file: {exc}") from None
    return [str(row[0]) for row in rows]


def _datapackage_sources(path: Path, name: str | None) -> list[TableSource]:
    try:
        package = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GovDataError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(package, dict):
        raise GovDataError(f"{path}: a datapackage must be a JSON object")
    listed = [r for r in resources(package) if isinstance(r.get("path"), str)]
    if not listed:
        raise GovDataError(f"{path}: the datapackage lists no resources with a path")
    out = []
    for index, resource in enumerate(listed):
        file = (path.parent / resource["path"]).resolve()
        if not file.is_relative_to(path.parent.resolve()) or not file.is_file():
            raise GovDataError(f"{path}: resources[{index}].path {resource['path']!r} is not a file beside it")
        table = resource.get("name") or file.stem
        fields = {str(f["name"]): f for f in schema_fields(resource)}
        out.append(TableSource(
            name=snake_name(f"{name}_{table}" if name and len(listed) > 1 else name or table), path=file,
            format=sniff_format(file), title=resource.get("title") or package.get("title") or table,
            description=resource.get("description") or package.get("description", ""),
            publisher=package_publisher(package), license=package_license(package), fields=fields,
            version_parts=[path, file],
        ))
    return out


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
                raise GovDataError(f"{source.path}: cannot read as {source.format}: {_one_line(exc)}") from None
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


def reserved_words(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    rows = con.execute("SELECT keyword_name FROM duckdb_keywords() "
                       "WHERE keyword_category IN ('reserved', 'type_function')").fetchall()
    return frozenset(str(r[0]).lower() for r in rows)


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _one_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


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
