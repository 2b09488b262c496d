"""The PostgreSQL engine's pure parts: types, dialect, settings, messages. The real server is in tests/e2e."""

import pytest

from assistant.sql.postgres import PostgresTarget, postgres_message, postgres_sql, postgres_type, target_of, where
from core.errors import GovDataError
from core.settings import SqlSettings


@pytest.mark.parametrize(("duckdb_type", "expected"), [
    ("BIGINT", "BIGINT"), ("INTEGER", "INT"), ("DOUBLE", "DOUBLE PRECISION"), ("VARCHAR", "TEXT"),
    ("DATE", "DATE"), ("TIMESTAMP", "TIMESTAMP"), ("BOOLEAN", "BOOLEAN"), ("DECIMAL(18,3)", "DECIMAL(18, 3)"),
    ("BLOB", "BYTEA"), ("INTEGER[]", "text"), ("STRUCT(a INTEGER)", "text"), ("no such type(", "text"),
])
def test_duckdb_types_map_to_postgres_types(duckdb_type: str, expected: str) -> None:
    assert postgres_type(duckdb_type) == expected


def test_any_value_becomes_min_before_postgres_16_only() -> None:
    sql = "SELECT d.id, ANY_VALUE(d.name) AS name FROM docs AS d GROUP BY d.id LIMIT 5"
    assert "MIN(d.name)" in postgres_sql(sql, 150_008) and "ANY_VALUE" not in postgres_sql(sql, 150_008)
    assert "ANY_VALUE(d.name)" in postgres_sql(sql, 160_002)


def test_duckdb_functions_are_transpiled() -> None:
    sql = "SELECT strftime(created, '%Y-%m') AS month FROM complaints LIMIT 10"
    assert "TO_CHAR(created, 'YYYY-MM')" in postgres_sql(sql, 150_000)


def test_the_engine_needs_both_logins_and_set_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    assert target_of(SqlSettings()) is None  # DuckDB stays the default
    with pytest.raises(GovDataError, match="GOVDATA_SQL__POSTGRES_DSN must be set"):
        target_of(SqlSettings(engine="postgres"))
    settings = SqlSettings(engine="postgres", postgres_dsn="postgresql://owner@db:5433/gov",
                           postgres_reader_dsn="postgresql://reader@db:5433/gov", postgres_password_env="PG_OWNER_PW")
    monkeypatch.delenv("PG_OWNER_PW", raising=False)
    with pytest.raises(GovDataError, match="PG_OWNER_PW is not set"):
        target_of(settings)
    monkeypatch.setenv("PG_OWNER_PW", "s3cret")
    target = target_of(settings)
    assert target is not None and "s3cret" in target.owner_dsn and "s3cret" not in target.reader_dsn
    assert where(target.owner_dsn) == "postgresql://db:5433/gov"


@pytest.mark.parametrize("schema", ["Gov", "gov-data", "x; DROP SCHEMA public", ""])
def test_schema_and_role_names_must_be_plain_identifiers(schema: str) -> None:
    with pytest.raises(GovDataError, match="plain identifier"):
        PostgresTarget("postgresql://a@h/d", "postgresql://b@h/d", schema=schema)


def test_data_errors_hide_values_other_errors_keep_names() -> None:
    bad = Exception('invalid input syntax for type bigint: "Wang Fang 138-0000-0001"\nDETAIL: row 7')
    assert postgres_message(bad, True) == 'invalid input syntax for type bigint: "…"'
    missing = Exception('column "salary" does not exist\nHINT:  Perhaps you meant to reference "secret.x".')
    assert postgres_message(missing, False) == 'column "salary" does not exist'
