"""Loading approved tables from files: CSV/TSV, Parquet, JSON, SQLite, datapackage.json, and ad-hoc `--db` sources.

`sources` says what tables a file holds, `load` reads one into DuckDB with described and sampled columns,
`adhoc` caches a whole `--db` source as one DuckDB file. Who may see a table is decided elsewhere
(`assistant/sql/approved.py`, `assistant/policy/`).
"""

from ingest.tables.adhoc import adhoc_database
from ingest.tables.load import described_values, load_source, load_table
from ingest.tables.model import ColumnInfo, Describe, RegisteredTable, TableSource, read_describe
from ingest.tables.names import quote, snake_name, unique_names
from ingest.tables.sources import TABULAR_SUFFIXES, file_digest, sniff_format, sources_for, sqlite_tables

__all__ = ["TABULAR_SUFFIXES", "ColumnInfo", "Describe", "RegisteredTable", "TableSource", "adhoc_database",
           "described_values", "file_digest", "load_source", "load_table", "quote", "read_describe", "snake_name",
           "sniff_format", "sources_for", "sqlite_tables", "unique_names"]
