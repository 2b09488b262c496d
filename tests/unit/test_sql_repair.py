"""The fix-up hint for a column put on the wrong table."""

from assistant.sql.repair import missing_names, repair_hint, requalified, unresolved_column
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


def test_missing_names_reads_every_message_that_says_a_name_is_not_there() -> None:
    """What the failure message names (issue 27: "needs a table or column" told the person nothing)."""
    assert missing_names("rejected by the guard: cannot resolve the query's columns: Unknown column: makeid") == \
        ["makeid"]
    assert missing_names("Column 'maker' could not be resolved for table: 'car_makers'. Line: 1") == ["maker"]
    assert missing_names('Binder Error: Referenced column "Weight" not found in FROM clause!') == ["Weight"]
    assert missing_names("table 'salaries' is not an approved table; column ssn is not available") == \
        ["salaries", "ssn"]
    assert missing_names("Catalog Error: Table with name cars does not exist!") == ["cars"]
    assert missing_names("Parser Error: syntax error at or near SELECT") == []


PETS = [_table("student", "stuid", "fname", "lname", "age"), _table("has_pet", "stuid", "petid"),
        _table("pets", "petid", "pettype", "pet_age")]
BATTLES = [_table("battle", "id", "name", "date"), _table("ship", "id", "lost_in_battle", "name", "ship_type")]


def test_a_column_on_the_wrong_alias_moves_to_the_one_table_that_has_it() -> None:
    sql = "SELECT DISTINCT T1.fname FROM has_pet AS T1 JOIN student AS T2 ON T1.stuid = T2.stuid"
    assert requalified(sql, PETS) == sql.replace("T1.fname", "T2.fname")


def test_a_join_equation_with_both_sides_on_the_other_table_is_swapped() -> None:
    sql = "SELECT b.name FROM battle AS b JOIN ship AS s ON b.lost_in_battle = s.id WHERE s.ship_type = 'Brig'"
    assert requalified(sql, BATTLES) == ("SELECT b.name FROM battle AS b JOIN ship AS s ON s.lost_in_battle = b.id "
                                         "WHERE s.ship_type = 'Brig'")


def test_nothing_moves_when_the_column_has_no_single_home_or_the_query_is_right() -> None:
    assert requalified("SELECT T2.fname FROM has_pet AS T1 JOIN student AS T2 ON T1.stuid = T2.stuid", PETS) is None
    assert requalified("SELECT s.name FROM battle AS b JOIN ship AS s ON s.id = b.id", BATTLES) is None  # both have it
    assert requalified("SELECT T1.colour FROM student AS T1", PETS) is None  # no table has it
    assert requalified("SELECT p.pettype FROM pets AS p JOIN has_pet AS hp ON p.stuid = hp.stuid", PETS) is None
    assert requalified("SELECT x.fname FROM (SELECT * FROM student) AS x JOIN has_pet AS h ON x.stuid = h.stuid",
                       PETS) is None  # a derived table: its columns are not known here
    assert requalified("SELECT (", PETS) is None


def test_only_the_tables_given_are_read() -> None:
    """A denied column is not among the visible tables, so nothing is ever moved onto it."""
    hidden = [_table("student", "stuid", "lname"), *PETS[1:]]
    assert requalified("SELECT T1.fname FROM has_pet AS T1 JOIN student AS T2 ON T1.stuid = T2.stuid", hidden) is None


def test_a_denied_column_is_not_moved_to_a_same_named_one_elsewhere() -> None:
    """`phone` exists in permits but the role may not read it: the query asked for the permit's phone, and moving
    it to another table's phone would answer a different question."""
    every = [_table("permits", "permit_id", "phone"), _table("contacts", "permit_id", "phone")]
    visible = [_table("permits", "permit_id"), every[1]]
    sql = "SELECT p.phone FROM permits AS p JOIN contacts AS c ON p.permit_id = c.permit_id"
    assert requalified(sql, visible, every=every) is None
    assert requalified(sql.replace("p.phone", "c.permit_id, p.nope"), visible, every=every) is None  # no holder


def _keyed(name: str, *columns: str, joins: dict[str, str]) -> RegisteredTable:
    table = _table(name, *columns)
    for column in table.columns:
        column.joins = [joins[column.name]] if column.name in joins else []
    return table


CARS = [_keyed("cars_data", "Id", "mpg", joins={"Id": "car_names.MakeId"}), _keyed("car_names", "MakeId", "Model",
                                                                                   joins={})]


def test_a_join_on_a_key_one_table_lacks_becomes_the_one_join_the_schema_declares() -> None:
    sql = "SELECT cn.model FROM cars_data AS cd JOIN car_names AS cn ON cd.makeid = cn.makeid ORDER BY cd.mpg"
    assert requalified(sql, CARS) == ("SELECT cn.model FROM cars_data AS cd JOIN car_names AS cn ON cd.Id = cn.MakeId "
                                      "ORDER BY cd.mpg")
    backwards = "SELECT cn.model FROM car_names AS cn JOIN cars_data AS cd ON cn.makeid = cd.makeid"
    assert requalified(backwards, CARS) == backwards.replace("cn.makeid = cd.makeid", "cn.MakeId = cd.Id")


def test_no_declared_join_is_guessed_when_there_is_none_or_several_or_the_equation_binds() -> None:
    assert requalified("SELECT cn.model FROM cars_data AS cd JOIN car_names AS cn ON cd.id = cn.makeid", CARS) is None
    twice = [_keyed("cars_data", "Id", "Maker", "mpg", joins={"Id": "car_names.MakeId", "Maker": "car_names.MakeId"}),
             CARS[1]]
    assert requalified("SELECT cn.model FROM cars_data AS cd JOIN car_names AS cn ON cd.makeid = cn.makeid",
                       twice) is None
    hidden = [CARS[0], _keyed("car_names", "Model", joins={})]  # the key's target is a column the role may not read
    assert requalified("SELECT cn.model FROM cars_data AS cd JOIN car_names AS cn ON cd.makeid = cn.model",
                       hidden) is None
