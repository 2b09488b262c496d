"""Type fix-ups: each refused query runs on DuckDB once fixed, and only columns the tables describe are touched."""

import duckdb
import pytest

from assistant.sql.coercion import TYPE_ERROR, coerce_types, column_kinds
from ingest.tables import ColumnInfo, RegisteredTable

CARS = RegisteredTable("cars", "cars", "", "", "csv", "public", "v", 3, [
    ColumnInfo("name", "VARCHAR"), ColumnInfo("year", "BIGINT"),
    ColumnInfo("horsepower", "VARCHAR", numeric_text=True), ColumnInfo("made", "DATE"),
    ColumnInfo("sold", "VARCHAR", date_text=True),
    ColumnInfo("season", "VARCHAR", numeric_text=True, samples=["2014", "2015"])])
OTHER = RegisteredTable("models", "models", "", "", "csv", "public", "v", 1, [ColumnInfo("name", "VARCHAR")])


def database() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE cars (name VARCHAR, year BIGINT, horsepower VARCHAR, made DATE, sold VARCHAR, "
                "season VARCHAR)")
    con.execute("INSERT INTO cars VALUES ('a', 1970, '130', '1970-05-01', '1971-03-02', '2014'), "
                "('b', 1971, 'null', '1971-02-01', '1972/06/30 10:00', '2015'), "
                "('c', 1970, '95', '1970-09-09', NULL, '2015')")
    return con


@pytest.mark.parametrize(("sql", "rows"), [
    ("SELECT count(*) FROM cars WHERE YEAR(year) = 1970", [(2,)]),
    ("SELECT EXTRACT(YEAR FROM year) AS y FROM cars ORDER BY y LIMIT 1", [(1970,)]),
    ("SELECT AVG(horsepower) FROM cars", [(112.5,)]),
    ("SELECT SUM(horsepower) FROM cars WHERE year = 1970", [(225.0,)]),
    ("SELECT name FROM cars WHERE horsepower > 100", [("a",)]),
    ("SELECT name FROM cars WHERE horsepower + 1 > 100 ORDER BY name", [("a",)]),
    ("SELECT name FROM cars WHERE YEAR(sold) = 1972", [("b",)]),
    ("SELECT count(*) FROM cars WHERE MONTH(sold) = 3 AND EXTRACT(YEAR FROM sold) = 1971", [(1,)]),
    ("SELECT strftime(sold, '%Y-%m') AS m FROM cars WHERE sold IS NOT NULL ORDER BY m", [("1971-03",), ("1972-06",)]),
    ("SELECT date_part('year', sold) AS y FROM cars WHERE name = 'a'", [(1971,)]),
    ("SELECT count(*) FROM cars WHERE YEAR(season) >= 2015", [(2,)]),  # a year kept as text is the year
    ("SELECT name FROM cars WHERE EXTRACT(YEAR FROM season) = 2014", [("a",)]),
])
def test_a_refused_query_runs_once_fixed(sql: str, rows: list[tuple[object, ...]]) -> None:
    con = database()
    with pytest.raises(duckdb.Error) as refused:
        con.execute(sql).fetchall()
    assert TYPE_ERROR.search(str(refused.value))
    fixed = coerce_types(sql, column_kinds([CARS, OTHER]))
    assert fixed is not None and con.execute(fixed).fetchall() == rows


def test_only_described_columns_in_number_places_change() -> None:
    kinds = column_kinds([CARS, OTHER])
    assert kinds == {"year": "integer", "horsepower": "numeric_text", "sold": "date_text",
                     "season": "year_text"}  # name: never touched
    assert coerce_types("SELECT name FROM cars WHERE sold > '1971'", kinds) is None  # not in a date function
    assert coerce_types("SELECT YEAR(made) FROM cars", kinds) is None  # a real date keeps its YEAR()
    assert coerce_types("SELECT max(horsepower), horsepower FROM cars ORDER BY horsepower", kinds) is None
    assert coerce_types("SELECT name FROM cars WHERE horsepower = 'null'", kinds) is None  # compared with text
    assert coerce_types("SELECT (", kinds) is None


def test_a_name_that_is_a_number_in_one_table_and_text_in_another_is_left_alone() -> None:
    clash = RegisteredTable("t", "t", "", "", "csv", "public", "v", 1, [ColumnInfo("year", "VARCHAR")])
    assert "year" not in column_kinds([CARS, clash])


def test_numbers_kept_as_text_are_years_only_when_every_known_value_is_one() -> None:
    """'20140512' is a date written as a number, not a year: YEAR() of it stays refused rather than read wrong."""
    def kind(*values: str) -> str:
        column = ColumnInfo("when", "VARCHAR", numeric_text=True, examples=list(values))
        return column_kinds([RegisteredTable("t", "t", "", "", "csv", "public", "v", 1, [column])])["when"]

    assert kind("1998", "2024") == "year_text"
    assert kind("20140512", "2015") == kind("150", "90") == kind() == "numeric_text"
    assert coerce_types("SELECT YEAR(horsepower) FROM cars", column_kinds([CARS])) is None
