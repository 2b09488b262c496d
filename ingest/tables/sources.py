"""What a file holds as tables: the format by content, one source per CSV/Parquet/JSON file, per SQLite table or per
datapackage resource (read with the same datapackage rules as catalog records), and the version of a source."""

import hashlib
import json
import sqlite3
from pathlib import Path

from core.errors import GovDataError
from ingest.catalogs.datapackage import package_license, package_publisher, resources, schema_fields
from ingest.links import leaves_its_folder
from ingest.tables.model import TableSource
from ingest.tables.names import quote, snake_name

TABULAR_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".json": "json",
                    ".jsonl": "json", ".ndjson": "json", ".sqlite": "sqlite", ".sqlite3": "sqlite", ".db": "sqlite"}
_SQLITE_MAGIC = b"SQLite format 3\x00"


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


def named_path(path: Path) -> Path:
    """The file the caller named, resolved; a symbolic link out of the folder holding it is refused
    (ingest/links.py), so `datasets add portal/x.csv` cannot approve a host file a planted link points at."""
    path = path.expanduser()
    if leaves_its_folder(path):
        raise GovDataError(f"{path}: a symbolic link out of {path.parent.resolve()}; name its target instead")
    return path.resolve()


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
