"""The bare-column fix-up gives DuckDB queries SQLite's meaning: each case runs as written on SQLite and
rewritten on DuckDB, over the same rows, and must return the same result."""

import sqlite3

import duckdb
import pytest

from assistant.sql.grouping import NOT_GROUPED, explicit_grouping

ROWS = [(1, "Ada", "Oslo", 36), (2, "Bo", "Oslo", 41), (3, "Cy", "Rome", 29), (4, "Di", "Rome", 52),
        (5, "Ed", "Kyiv", 33)]
VISITS = [(1, 2020), (1, 2021), (2, 2020), (3, 2022), (4, 2022), (4, 2023), (4, 2024)]

SQLITE_STYLE = [
    "SELECT name, MAX(age) FROM people",
    "SELECT name, MIN(age) FROM people",
    "SELECT city, name, MAX(age) FROM people GROUP BY city",
    "SELECT p.name, p.city FROM people AS p JOIN visits AS v ON p.id = v.person GROUP BY p.id ORDER BY COUNT(*) DESC "
    "LIMIT 1",
    "SELECT name, city FROM people GROUP BY 1",
    "SELECT name AS who, MAX(age) AS oldest FROM people",
    "SELECT city, name, MAX(age), COUNT(*) FROM people GROUP BY city HAVING COUNT(*) > 1",
    "SELECT x FROM (SELECT name AS x, MAX(age) FROM people) AS sub",
]


def _databases() -> tuple[sqlite3.Connection, duckdb.DuckDBPyConnection]:
    lite, duck = sqlite3.connect(":memory:"), duckdb.connect()
    for con in (lite, duck):
        con.execute("CREATE TABLE people (id INTEGER, name TEXT, city TEXT, age INTEGER)")
        con.execute("CREATE TABLE visits (person INTEGER, year INTEGER)")
        con.executemany("INSERT INTO people VALUES (?, ?, ?, ?)", ROWS)
        con.executemany("INSERT INTO visits VALUES (?, ?)", VISITS)
    return lite, duck


@pytest.mark.parametrize("sql", SQLITE_STYLE)
def test_rewrite_returns_what_sqlite_returns(sql: str) -> None:
    lite, duck = _databases()
    with pytest.raises(duckdb.BinderException, match=NOT_GROUPED.pattern):
        duck.execute(sql)
    fixed = explicit_grouping(sql)
    assert fixed is not None
    assert sorted(duck.execute(fixed).fetchall()) == sorted(lite.execute(sql).fetchall())


@pytest.mark.parametrize("sql", [
    "SELECT city, COUNT(*) FROM people GROUP BY city",
    "SELECT name FROM people WHERE age > (SELECT AVG(age) FROM people)",
    "SELECT a.name, (SELECT MAX(year) FROM visits) FROM people AS a",
    "SELECT name, ROW_NUMBER() OVER (ORDER BY age) FROM people",  # windows are left alone
    "SELECT name FROM (",  # unparsable
])
def test_nothing_to_do_is_none(sql: str) -> None:
    assert explicit_grouping(sql) is None


def test_without_arg_functions_any_value_is_used() -> None:
    fixed = explicit_grouping("SELECT name, MAX(age) FROM people", arg_extremes=False)
    assert fixed == "SELECT ANY_VALUE(name) AS name, MAX(age) FROM people"


def test_a_bare_column_in_order_by_is_wrapped_too() -> None:
    fixed = explicit_grouping("SELECT city FROM people GROUP BY city ORDER BY age")
    assert fixed == "SELECT city FROM people GROUP BY city ORDER BY ANY_VALUE(age)"
