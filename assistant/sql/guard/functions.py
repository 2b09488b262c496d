"""Functions: an explicit allowlist of table functions and a denylist of functions that read files, the
system or the engine's state."""

import functools

import duckdb
from sqlglot import exp

from assistant.sql.guard.model import SqlRejected

# The only table functions a query may use as a source (FROM, JOIN, LATERAL, subqueries): an explicit allowlist,
# because DuckDB's table functions and table macros reach catalogs, files and other tables (query_table,
# histogram, summary, sniff_csv, json_each over any text, truncate_duckdb_logs, ...).
ALLOWED_TABLE_FUNCTIONS = frozenset({"unnest"})


# Functions that reach outside the approved tables (files, network, settings, catalogs) or change state.
DENIED_FUNCTIONS = frozenset({
    "read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "parquet_metadata", "parquet_schema",
    "read_json", "read_json_auto", "read_json_objects", "read_json_objects_auto", "read_ndjson",
    "read_ndjson_auto", "read_ndjson_objects", "read_text", "read_blob", "read_xlsx", "glob", "query",
    "query_table", "sqlite_scan", "sqlite_attach", "postgres_scan", "postgres_attach", "mysql_scan",
    "getenv", "current_setting", "set_config", "nextval", "currval", "setval", "checkpoint", "force_checkpoint",
    "iceberg_scan", "delta_scan", "st_read", "load_extension", "install_extension", "columns", "http_get",
    "http_post", "which_secret", "enable_profiling", "pg_read_file", "pg_ls_dir", "lo_import", "lo_export",
    "current_schemas", "sql_auto_complete", "json_execute_serialized_sql", "json_serialize_sql",
    "json_deserialize_sql", "test_all_types", "range_table", "pragma", "readcsv", "readparquet",
    # error() raises its argument as the engine's message: a side channel for any value
    "error", "truncate_duckdb_logs", "sniff_csv", "summary", "repeat_row", "histogram_values",
    # who and where the query runs as: on PostgreSQL the login, database and server (issue 26)
    "current_user", "session_user", "current_role", "user", "current_database", "current_catalog", "current_schema",
    "version", "current_version", "currentversion", "inet_client_addr", "inet_client_port", "inet_server_addr",
    "inet_server_port", "txid_current",
})


DENIED_PREFIXES = ("read_", "duckdb_", "pragma_", "sqlite_", "postgres_", "mysql_", "parquet_", "iceberg_",
                   "delta_", "http", "pg_", "icu_", "st_read", "json_execute", "test_")


def function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def _check_function(node: exp.Func) -> None:
    names = {function_name(node), node.key.lower()}
    for name in names:
        if name in DENIED_FUNCTIONS or name.startswith(DENIED_PREFIXES):
            raise SqlRejected(f"function {name}() is not allowed: it reaches outside the approved tables, changes "
                              "state or leaks values through errors", node)
    if isinstance(node, exp.Anonymous) and function_name(node) not in engine_functions():
        raise SqlRejected(f"function {function_name(node)}() is not a DuckDB function", node)


@functools.cache
def engine_functions() -> frozenset[str]:
    """Every function name DuckDB itself knows in its main schema (table functions too: the source rule refuses
    those; not its pg_catalog shims such as has_table_privilege or obj_description, which on PostgreSQL are the
    server's own catalog functions). The guard decides on DuckDB's dialect, so a name sqlglot does not know and
    DuckDB does not have is refused: on PostgreSQL such a name would be the server's own (query_to_xml runs any
    SQL as the login; issue 26)."""
    con = duckdb.connect()
    try:
        rows = con.execute("SELECT DISTINCT lower(function_name) FROM duckdb_functions() "
                           "WHERE function_type <> 'pragma' AND schema_name = 'main'").fetchall()
    finally:
        con.close()
    return frozenset(str(name) for (name,) in rows)
