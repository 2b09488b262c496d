"""Which queries over a table about people run for a role under disclosure control, and the query that runs instead
(assistant/sql/sdc_rewrite.py): the rewrite's rows carry the true values with their companions, on real DuckDB."""

import duckdb
import pytest

from assistant.sql.guard import Approval, SqlGuard, TableAccess
from assistant.sql.runner import QueryFailed, QueryRunner, RunnerLimits, check_single_scans, plan_facts
from assistant.sql.sdc_rewrite import SdcRefused, SdcTable, rewrite, tables_read

TABLES = {"people": SdcTable("people", "person", 5)}
APPROVAL = Approval.of([TableAccess("people", {"person_id": "BIGINT", "ward": "VARCHAR", "age": "BIGINT",
                                               "income": "DOUBLE", "diagnosis": "VARCHAR"}),
                        TableAccess("wards", {"ward": "VARCHAR", "region": "VARCHAR"})])


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("""CREATE TABLE people AS SELECT i AS person_id, ['north', 'south', 'harbour'][1 + (i % 3)] AS ward,
        20 + i % 60 AS age, 1000.0 * (1 + i % 7) AS income, CASE WHEN i % 4 = 0 THEN 'asthma' ELSE 'none' END
        AS diagnosis, 1000 + i AS __govdata_rk FROM range(90) t(i)""")
    con.execute("CREATE TABLE wards AS SELECT * FROM (VALUES ('north', 'inland'), ('south', 'inland'), "
                "('harbour', 'coast')) v(ward, region)")
    return con


def guarded(sql: str) -> str:
    return SqlGuard().guard(sql, APPROVAL).sql


def planned(sql: str):  # type: ignore[no-untyped-def]
    found = rewrite(guarded(sql), TABLES, 1000)
    assert found is not None
    return found


def test_queries_that_read_no_declared_table_run_as_they_are() -> None:
    assert rewrite(guarded("SELECT region, count(*) AS n FROM wards GROUP BY region"), TABLES, 1000) is None
    assert [t.name for t in tables_read(guarded("SELECT count(*) AS n FROM people"), TABLES)] == ["people"]


def test_the_rewrite_returns_true_values_with_units_and_cell_keys(con: duckdb.DuckDBPyConnection) -> None:
    plan = planned("SELECT ward, count(*) AS n, sum(income) AS s, avg(age) AS a FROM people GROUP BY ward")
    rows = {r[2]: r for r in con.execute(plan.sql).fetchall()}
    truth = {w: (n, s, a) for w, n, s, a in con.execute(
        "SELECT ward, count(*), sum(income), avg(age) FROM people GROUP BY ward").fetchall()}
    for ward, (n, s, a) in truth.items():
        row = rows[ward]
        assert row[1] == n and row[3] == n and row[4] == n  # group units; count value and units
        assert row[6] == s and row[7] == n and len(row[9]) == 2  # sum value, nonzero units, top two
        assert row[11].startswith("DECIMAL") and row[17] == "BIGINT"  # the arguments' types (sums run in DOUBLE)
        assert abs(row[12] / row[18] - a) < 1e-9  # the mean from its sum and count
    keys = con.execute("SELECT ward, sum(__govdata_rk) FROM people GROUP BY ward").fetchall()
    assert all(rows[w][5] == key for w, key in keys)  # the cell key: the units' record keys summed
    assert plan.layout.grouped and [o.name for o in plan.layout.outputs] == ["ward", "n", "s", "a"]


def test_without_group_by_there_is_always_one_row(con: duckdb.DuckDBPyConnection) -> None:
    plan = planned("SELECT count(*) AS n FROM people WHERE age > 1000")
    assert con.execute(plan.sql).fetchall() == [(0, 0, None, 0, 0)]  # a suppressed cell, not no row


def test_filters_count_only_the_units_they_select(con: duckdb.DuckDBPyConnection) -> None:
    plan = planned("SELECT count(*) FILTER (WHERE diagnosis = 'asthma') AS n, "
                   "count(DISTINCT ward) FILTER (WHERE person_id = 3) AS w FROM people")
    row = con.execute(plan.sql).fetchall()[0]
    assert row[2:4] == (23, 23) and row[5:7] == (1, 1)  # 23 with asthma; one person's ward: one unit


def test_rollup_cube_and_grouping_sets_give_every_level(con: duckdb.DuckDBPyConnection) -> None:
    rollup = con.execute(planned("SELECT ward, diagnosis, count(*) AS n FROM people "
                                 "GROUP BY ROLLUP (ward, diagnosis)").sql).fetchall()
    assert sorted({r[0] for r in rollup}) == [0, 1, 3]
    cube = con.execute(planned("SELECT ward, diagnosis, count(*) AS n FROM people "
                               "GROUP BY CUBE (ward, diagnosis)").sql).fetchall()
    assert sorted({r[0] for r in cube}) == [0, 1, 2, 3]
    sets = con.execute(planned("SELECT ward, diagnosis, count(*) AS n FROM people "
                               "GROUP BY GROUPING SETS ((ward), (diagnosis))").sql).fetchall()
    assert sorted({r[0] for r in sets}) == [1, 2]
    with pytest.raises(SdcRefused, match="one ROLLUP"):
        planned("SELECT ward, count(*) AS n FROM people GROUP BY ROLLUP (ward), CUBE (diagnosis)")


def test_outputs_order_and_limit_are_read_from_the_checked_query() -> None:
    plan = planned("SELECT ward AS w, 'x' AS tag, ROUND(AVG(income), 1) AS a, CAST(count(*) AS DOUBLE) AS n "
                   "FROM people GROUP BY ALL ORDER BY n DESC, 1 LIMIT 2 OFFSET 1")
    layout = plan.layout
    assert [(o.name, o.key, o.measure, o.constant) for o in layout.outputs] == [
        ("w", 0, None, None), ("tag", None, None, "x"), ("a", None, 0, None), ("n", None, 1, None)]
    assert layout.measures[0].digits == 1 and layout.measures[1].cast == "float"
    assert layout.order == ((3, True), (0, False)) and (layout.limit, layout.offset) == (2, 1)
    assert planned("SELECT mean(income) AS m FROM people").layout.measures[0].kind == "avg"


def test_lookups_join_and_subqueries_over_other_tables_still_run(con: duckdb.DuckDBPyConnection) -> None:
    for sql in ("SELECT w.region, count(*) AS n FROM people p JOIN wards w ON w.ward = p.ward GROUP BY w.region",
                "SELECT count(*) AS n FROM people p WHERE p.ward IN (SELECT ward FROM wards WHERE region = 'coast')",
                "WITH c AS (SELECT ward FROM wards WHERE region = 'inland') SELECT count(*) AS n FROM people p "
                "WHERE p.ward IN (SELECT ward FROM c)",
                "SELECT count(*) AS n FROM wards w JOIN people p ON p.ward = w.ward"):
        assert con.execute(planned(sql).sql).fetchall(), sql


def test_casts_and_failing_expressions_become_null_instead_of_an_error(con: duckdb.DuckDBPyConnection) -> None:
    plan = planned("SELECT count(*) AS n FROM people WHERE CAST(CASE WHEN person_id = 3 THEN 'x' ELSE '1' END "
                   "AS INTEGER) = 1")
    assert "TRY_CAST" in plan.sql and "TRY(" in plan.sql
    assert con.execute(plan.sql).fetchall()[0][2] == 89  # person 3's row fails the cast: NULL, not counted


@pytest.mark.parametrize("sql, words", [
    ("SELECT ward, age FROM people", "row-level"),
    ("SELECT DISTINCT ward FROM people", "DISTINCT"),
    ("SELECT ward, count(*) AS n FROM people GROUP BY ward HAVING count(*) > 5", "HAVING"),
    ("SELECT ward, count(*) OVER () AS n FROM people", "window"),
    ("SELECT max(income) AS m FROM people", "count, sum and avg"),
    ("SELECT sum(DISTINCT income) AS s FROM people", "count, sum and avg"),
    ("SELECT count(*) + 1 AS n FROM people", "count, sum and avg"),
    ("SELECT count(*) AS n FROM people a JOIN people b ON a.ward = b.ward", "read once"),
    ("SELECT count(*) AS n FROM people WHERE age > (SELECT avg(age) FROM people)", "read once"),
    ("SELECT count(*) AS n FROM wards w LEFT JOIN people p ON p.ward = w.ward", "first in FROM"),
    ("SELECT count(*) AS n FROM people p RIGHT JOIN wards w ON p.ward = w.ward", "RIGHT and FULL"),
    ("SELECT count(*) AS n FROM people UNION ALL SELECT count(*) FROM wards", "UNION"),
    ("SELECT ward, count(*) AS n FROM people GROUP BY ward ORDER BY sum(age)", "ORDER BY"),
    ("SELECT count(*) AS n FROM people WHERE random() < 0.5", "same every time"),
    ("SELECT count(*) AS n FROM people WHERE age > epoch_ms(now()) % 50", "same every time"),
])
def test_what_is_refused_and_why(sql: str, words: str) -> None:
    with pytest.raises(SdcRefused) as refused:
        planned(sql)
    assert words in refused.value.reason and refused.value.reason.startswith("disclosure control:")


def test_two_tables_about_people_are_not_read_together() -> None:
    tables = {**TABLES, "wards": SdcTable("wards", "household", 5)}
    with pytest.raises(SdcRefused, match="one of them"):
        rewrite(guarded("SELECT count(*) AS n FROM people p JOIN wards w ON w.ward = p.ward"), tables, 1000)


def test_the_plan_wall_reads_the_table_once_with_no_window(con: duckdb.DuckDBPyConnection) -> None:
    import json

    def facts(sql: str):  # type: ignore[no-untyped-def]
        return plan_facts(json.loads(con.execute("EXPLAIN (FORMAT JSON) " + sql).fetchall()[0][1]))

    check_single_scans(facts(planned("SELECT ward, count(*) AS n FROM people GROUP BY CUBE (ward, age)").sql),
                       ("people",))
    with pytest.raises(QueryFailed, match="more than once"):
        check_single_scans(facts("SELECT count(*) FROM people a, people b"), ("people",))
    with pytest.raises(QueryFailed, match="window"):
        check_single_scans(facts("SELECT ward, count(*) OVER () FROM people"), ("people",))
    empty = facts("SELECT count(*) FROM people WHERE 1 = 0")
    assert not empty.scans  # the planner proved it reads no row: nothing of anyone's can reach the result
    check_single_scans(empty, ("people",))


def test_the_runner_applies_the_plan_wall(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from assistant.sql.guard import GuardedQuery

    path = tmp_path / "p.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE people AS SELECT i AS id, 1000 + i AS __govdata_rk FROM range(10) t(i)")
    con.close()
    runner = QueryRunner(path, RunnerLimits())
    with pytest.raises(QueryFailed, match="more than once"):
        runner.run(GuardedQuery("SELECT count(*) FROM people a, people b", ("people",), single_scan=("people",)))


def test_the_walls_plan_without_the_datas_statistics(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """DuckDB's statistics drop a scan whose filter lies outside a column's min/max; with the plan wall counting
    scans, that made `age > <max>` answer differently from `age > <max - 1>`. A locked connection plans from the
    query alone: the scan is there whatever the constant (a plain connection's plan, for contrast, drops it)."""
    import json

    from assistant.sql.guard import GuardedQuery
    from assistant.sql.runner import locked_connection

    path = tmp_path / "p.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE people AS SELECT i AS id, 18 + i % 80 AS age FROM range(1000) t(i)")
    con.close()

    def scans(cursor: duckdb.DuckDBPyConnection, sql: str) -> int:
        return len(plan_facts(json.loads(cursor.execute("EXPLAIN (FORMAT JSON) " + sql).fetchall()[0][1])).scans)

    locked = locked_connection(path, RunnerLimits(), shared=True)
    for threshold in (96, 97, 98, 10**9):
        assert scans(locked, f"SELECT count(*) FROM people WHERE age > {threshold}") == 1
    plain = duckdb.connect()
    plain.execute("CREATE TABLE people AS SELECT i AS id, 18 + i % 80 AS age FROM range(1000) t(i)")
    assert scans(plain, "SELECT count(*) FROM people WHERE age > 98") == 0  # what the statistics do
    runner = QueryRunner(path, RunnerLimits(), shared=True)
    assert runner.run(GuardedQuery("SELECT count(*) FROM people WHERE age > 98", ("people",),
                                   single_scan=("people",))).rows == [[0]]
