"""The fix-up hint for a column put on the wrong table."""

from assistant.sql.repair import repair_hint, unresolved_column
from ingest.tables import RegisteredTable
from ingest.tables.model import ColumnInfo


def _table(name: str, *columns: str) -> RegisteredTable:
    return RegisteredTable(name=name, title=name, description="", source="", format="csv", access_level="public",
                           version="v1", row_count=1, columns=[ColumnInfo(name=c, type="VARCHAR") for c in columns])


TABLES = [_table("car_names", "makeid", "model", "make"), _table("cars_data", "id", "mpg", "horsepower", "weight"),
          _table("hiring", "shop_id", "employee_id"), _table("employee", "employee_id", "name")]


def test_the_column_is_read_from_the_guard_duckdb_and_postgresql_messages() -> None:
    assert unresolved_column("rejected by the guard: cannot resolve the query's columns: Column 'weight' could "
                             "not be resolved. Line: 1, Col: 40") == "weight"
    assert unresolved_column('DuckDB error: Binder Error: Referenced column "Weight" not found in FROM clause!'
                             ) == "weight"
    assert unresolved_column('PostgreSQL error: column t.weight does not exist') == "weight"
    assert unresolved_column("rejected by the guard: only a query may run") is None


def test_the_hint_names_every_table_that_holds_the_column_with_its_columns() -> None:
    hint = repair_hint("Column 'weight' could not be resolved", TABLES)
    assert hint.startswith("Hint: weight is a column of cars_data(id, mpg, horsepower, weight)")
    two = repair_hint("Column 'employee_id' could not be resolved for table: 'e'", TABLES)
    assert "hiring(shop_id, employee_id)" in two and "employee(employee_id, name)" in two


def test_a_column_no_table_has_gets_the_closest_names_or_a_plain_line() -> None:
    assert repair_hint("Column 'horse_power' could not be resolved", TABLES) == \
        "Hint: no table has a column horse_power; the closest are cars_data.horsepower."
    assert repair_hint("Column 'salary' could not be resolved", TABLES) == \
        "Hint: no table has a column salary: answer with the columns listed."
    assert repair_hint("rejected by the guard: only a query may run", TABLES) == ""


def test_only_the_tables_given_are_named() -> None:
    """The caller passes the role's visible tables (denied columns already removed): nothing else leaks."""
    assert "employee" not in repair_hint("Column 'name' could not be resolved", TABLES[:3])


def test_the_guards_unknown_column_message_is_read_too() -> None:
    from assistant.sql.repair import unresolved_column

    assert unresolved_column("rejected by the guard: cannot resolve the query's columns: Unknown column: stuid)") == \
        "stuid"
