"""`--db PATH`: an ad-hoc approved database for one call (SQLite file, folder of CSV/Parquet, or DuckDB file).

The source is copied once into a DuckDB file cached by content hash, so repeated calls (an eval over
hundreds of questions) load it once. Every table of it is approved; no column is flagged sensitive.
"""

import json
from dataclasses import asdict, replace
from pathlib import Path

import duckdb

from core.errors import FieldError
from core.files import atomic_write
from ingest.links import leaves, leaves_its_folder
from ingest.tables.load import load_source
from ingest.tables.model import ColumnInfo, Describe, RegisteredTable, TableSource
from ingest.tables.names import unique_names
from ingest.tables.sources import TABULAR_SUFFIXES, file_digest, sniff_format, sources_for

_CACHE_FORMAT = "6"  # bump when what a table records changes (4: examples, ranges; 5: samples by frequency;
#                       6: dates stored as text)


def adhoc_database(path: Path, cache_root: Path) -> tuple[Path, list[RegisteredTable]]:
    """The DuckDB file to query and the tables it holds."""
    if leaves_its_folder(path.expanduser()):
        raise FieldError("db", "a symbolic link out of its folder; name its target instead", path)
    path = path.expanduser().resolve()
    if not path.exists():
        raise FieldError("db", "no such file or folder", path)
    if path.is_file() and sniff_format(path) == "duckdb":
        return path, _describe_duckdb(path, path.name)
    sources = _folder_sources(path) if path.is_dir() else _file_sources(path)
    key = file_digest([s.path for s in sources])[:20] + _CACHE_FORMAT
    database = cache_root / f"{key}.duckdb"
    described = cache_root / f"{key}.json"
    if not (database.is_file() and described.is_file()):
        _build(database, described, sources, path)
    raw = json.loads(described.read_text(encoding="utf-8"))
    return database, [RegisteredTable.from_dict(t) for t in raw]


def _file_sources(path: Path) -> list[TableSource]:
    if sniff_format(path) != "sqlite":
        raise FieldError("db", "expected a SQLite file, a DuckDB file or a folder of CSV/Parquet", path)
    return sources_for(path, None)


def _folder_sources(path: Path) -> list[TableSource]:
    """The folder's CSV and Parquet files (or its one SQLite file); a link out of the folder is refused, not
    skipped: an ad-hoc call has no summary to warn in, and a missing table would go unnoticed."""
    tabular = [p for p in sorted(path.iterdir()) if TABULAR_SUFFIXES.get(p.suffix.lower()) in ("csv", "parquet")
               or p.suffix.lower() in (".sqlite", ".db")]
    outside = next((p for p in tabular if leaves(p, path)), None)
    if outside is not None:
        raise FieldError("db", f"{outside.name} is a symbolic link out of the folder; copy the file in or name its "
                         "target", path)
    files = [p for p in tabular if p.is_file() and p.suffix.lower() not in (".sqlite", ".db")]
    if not files:
        sqlite = [p for p in tabular if p.is_file() and p.suffix.lower() in (".sqlite", ".db")]
        if len(sqlite) == 1:
            return sources_for(sqlite[0], None)
        raise FieldError("db", "the folder holds no CSV or Parquet files", path)
    names = unique_names([p.stem for p in files])
    return [TableSource(name, p, sniff_format(p), title=p.stem, version_parts=[p]) for name, p in zip(names, files,
                                                                                                      strict=True)]


def _build(database: Path, described: Path, sources: list[TableSource], origin: Path) -> None:
    database.parent.mkdir(parents=True, exist_ok=True)
    partial = database.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    con = duckdb.connect(str(partial))
    try:  # the source shown is what the caller named (file or folder)
        tables = [replace(load_source(con, s, Describe(), "public", []), source=str(origin), registered_at="")
                  for s in sources]
    finally:
        con.close()
    partial.replace(database)
    atomic_write(described, json.dumps([asdict(t) for t in tables], ensure_ascii=False))


def _describe_duckdb(path: Path, label: str) -> list[RegisteredTable]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT table_name, column_name, data_type FROM information_schema.columns "
                           "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position").fetchall()
        counts = {str(t): int(n) for t, n in con.execute(
            "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()}
    finally:
        con.close()
    tables: dict[str, list[ColumnInfo]] = {}
    for table, column, kind in rows:
        tables.setdefault(str(table), []).append(ColumnInfo(str(column), str(kind), label=str(column)))
    version = file_digest([path])[:16]
    return [RegisteredTable(name, name, "", label, "duckdb", "public", version, counts.get(name, 0), columns)
            for name, columns in tables.items()]
