"""The runner is a wall of its own: even unguarded SQL cannot read files, write tables or change settings."""

from pathlib import Path

import duckdb
import pytest

from assistant.sql.guard import Approval, SqlGuard, TableAccess
from assistant.sql.runner import MASK, QueryFailed, QueryRunner, RunnerLimits


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "approved.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE people AS SELECT range AS id, 'p' || range AS name, '555-' || range AS phone "
                "FROM range(50)")
    con.close()
    (tmp_path / "outside.csv").write_text("secret\nvalue\n")
    return path


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('{dir}/outside.csv')",
    "SELECT * FROM '{dir}/outside.csv'",
    "SELECT * FROM read_text('{dir}/outside.csv')",
    "SELECT * FROM glob('{dir}/*')",
    "COPY people TO '{dir}/leak.csv'",
    "ATTACH '{dir}/other.duckdb' AS other",
    "CREATE TABLE stolen AS SELECT * FROM people",
    "INSERT INTO people VALUES (99, 'x', 'y')",
    "DELETE FROM people",
    "DROP TABLE people",
    "SET enable_external_access = true",
    "SET lock_configuration = false",
    "INSTALL httpfs",
    "LOAD httpfs",
])
def test_runner_alone_refuses(sql: str, database: Path) -> None:
    runner = QueryRunner(database)
    with pytest.raises(QueryFailed):
        runner.run_raw(sql.format(dir=database.parent))
    assert not (database.parent / "leak.csv").exists()
    assert runner.run_raw("SELECT count(*) FROM people").rows == [[50]]


def test_timeout_interrupts_and_connection_is_reusable(database: Path) -> None:
    runner = QueryRunner(database, RunnerLimits(timeout_s=0.5, max_estimated_rows=0))  # the timer alone
    with pytest.raises(QueryFailed, match="longer than 0.5 s"):
        runner.run_raw("SELECT count(*) FROM people a, people b, people c, people d, people e, people f")
    assert runner.run_raw("SELECT 1").rows == [[1]]


def test_row_cap_and_truncation_flag(database: Path) -> None:
    approval = Approval.of([TableAccess("people", {"id": "BIGINT", "name": "VARCHAR", "phone": "VARCHAR"})])
    runner = QueryRunner(database, RunnerLimits(row_cap=10))
    capped = runner.run(SqlGuard(row_cap=10).guard("SELECT id FROM people", approval))
    assert capped.row_count == 10 and capped.truncated
    small = runner.run(SqlGuard(row_cap=10).guard("SELECT id FROM people LIMIT 3", approval))
    assert small.row_count == 3 and not small.truncated


def test_masked_columns_are_masked_in_results(database: Path) -> None:
    approval = Approval.of([TableAccess("people", {"id": "BIGINT", "name": "VARCHAR", "phone": "VARCHAR"},
                                        masked=frozenset({"phone"}))])
    result = QueryRunner(database).run(SqlGuard().guard("SELECT name, phone FROM people ORDER BY id LIMIT 2",
                                                        approval))
    assert result.rows == [["p0", MASK], ["p1", MASK]] and result.masked_columns == ["phone"]


def test_values_are_json_safe(database: Path) -> None:
    result = QueryRunner(database).run_raw("SELECT 1.5::DECIMAL(4,2) AS d, DATE '2024-01-02' AS day, "
                                           "[1, 2] AS l, {'a': 1} AS s, 'x'::BLOB AS b")
    assert result.rows == [[1.5, "2024-01-02", [1, 2], {"a": 1}, "base64:eA=="]]


# ---- issue 18: the runner bounds what it returns and what its errors say, without the guard ----

def test_huge_text_is_cut_in_the_engine(database: Path) -> None:
    runner = QueryRunner(database, RunnerLimits(max_cell_chars=100))
    result = runner.run_raw("SELECT repeat('x', 100000000) AS big, id FROM people, (VALUES (1), (2), (3), (4)) v(i) "
                            "LIMIT 8")
    assert result.row_count == 8 and result.cut_columns == ["big"]
    assert all(row[0] == "x" * 100 + "…" for row in result.rows)


def test_oversized_nested_and_binary_values_are_not_shown(database: Path) -> None:
    runner = QueryRunner(database, RunnerLimits(max_cell_chars=50))
    result = runner.run_raw("SELECT [repeat('x', 1000)] AS l, {'a': repeat('y', 1000)} AS s, "
                            "repeat('z', 1000)::BLOB AS b, [1, 2] AS small FROM people LIMIT 2")
    assert result.cut_columns == ["l", "s", "b"]
    assert result.rows[0][:3] == ["[value larger than 50 characters not shown]"] * 3
    assert result.rows[0][3] == [1, 2]


def test_result_larger_than_the_byte_limit_is_refused(database: Path) -> None:
    runner = QueryRunner(database, RunnerLimits(max_result_bytes=100_000))
    with pytest.raises(QueryFailed, match="larger than 100,000 bytes"):
        runner.run_raw("SELECT repeat('x', 9000) FROM people a, people b")


def test_values_python_cannot_hold_fail_as_one_line(database: Path) -> None:
    with pytest.raises(QueryFailed, match=r"cannot be shown \(OverflowError\)"):
        QueryRunner(database).run_raw("SELECT INTERVAL 100000000 YEAR AS forever")


@pytest.mark.parametrize(("sql", "leak"), [
    ("SELECT * FROM nosuch_table", "Did you mean"),
    ("SELECT nme FROM people", "Candidate bindings"),
    ("SELECT CAST(name || '@example.com' AS INT) FROM people", "p0@example.com"),
    ("SELECT CAST('alice@example.com' AS INT)", "alice@example.com"),
    ("SELECT 1 FROM people WHERE CAST(phone AS INTEGER) = 5", "555-0"),
])
def test_engine_messages_name_no_other_object_and_no_value(sql: str, leak: str, database: Path) -> None:
    with pytest.raises(QueryFailed) as failed:
        QueryRunner(database).run_raw(sql)
    message = str(failed.value)
    assert leak not in message and "\n" not in message and "LINE 1" not in message



# ---- issue 14: the runner reads the engine's plan before it runs anything ----

def test_a_plan_that_multiplies_rows_is_refused_before_it_runs(database: Path) -> None:
    runner = QueryRunner(database, RunnerLimits(max_estimated_rows=10_000))
    with pytest.raises(QueryFailed, match=r"would combine about 125,000 rows at one step \(the limit is 10,000\); "
                                          "add a join condition"):
        runner.run_raw("SELECT count(*) FROM people a, people b, people c", ("people",))
    assert runner.run_raw("SELECT count(*) FROM people a JOIN people b ON a.id = b.id", ("people",)).rows == [[50]]


def test_the_plan_may_read_only_the_approved_tables(database: Path) -> None:
    con = duckdb.connect(str(database))
    con.execute("CREATE TABLE secret AS SELECT 42 AS x")
    con.close()
    runner = QueryRunner(database)
    for sql in ("SELECT * FROM query_table('secret')",
                "SELECT count(*) FROM people, LATERAL histogram('secret', 'x') h",
                "SELECT id FROM people WHERE id IN (SELECT x FROM secret)"):
        with pytest.raises(QueryFailed, match="not approved for"):
            runner.run_raw(sql, ("people",))
    assert runner.run_raw("SELECT count(*) FROM people", ("people",)).rows == [[50]]


@pytest.mark.parametrize("sql", ["SELECT * FROM range(5)", "SELECT * FROM generate_series(1, 3)",
                                 "SELECT * FROM json_each('[1]')", "SELECT * FROM test_all_types()"])
def test_the_plan_may_run_no_table_function_but_unnest(sql: str, database: Path) -> None:
    runner = QueryRunner(database)
    with pytest.raises(QueryFailed, match="table function"):
        runner.run_raw(sql)
    assert runner.run_raw("SELECT x FROM unnest([1, 2]) t(x)").rows == [[1], [2]]


def test_memory_beyond_the_limit_is_stopped_and_the_process_goes_on(database: Path) -> None:
    runner = QueryRunner(database, RunnerLimits(memory_limit="64MB", max_estimated_rows=0))
    with pytest.raises(QueryFailed, match="more memory than the limit"):
        runner.run_raw("SELECT string_agg(repeat('x', 1000), ',') FROM people a, people b, people c, people d")
    assert runner.run_raw("SELECT count(*) FROM people").rows == [[50]]
