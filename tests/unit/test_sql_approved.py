"""Approved tables on real DuckDB: loading each format, descriptions, sensitivity, versions, atomic failure."""

import json
import re
import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest

from assistant.cli.common import error_text
from assistant.sql.approved import ApprovedTables
from core.errors import GovDataError
from ingest.tables import adhoc_database, snake_name, unique_names

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sql"


@pytest.fixture
def registry(tmp_path: Path) -> ApprovedTables:
    return ApprovedTables(tmp_path / "sql")


def rows(registry: ApprovedTables, sql: str) -> list[tuple]:
    con = duckdb.connect(str(registry.database), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_csv_with_describe_file(registry: ApprovedTables) -> None:
    [table], unchanged = registry.add(FIXTURES / "permits.csv", describe=FIXTURES / "permits.describe.json")
    assert not unchanged and table.name == "permits" and table.row_count == 5
    names = [c.name for c in table.columns]
    assert names == ["permit_id", "城市", "applicant_name", "phone", "kind", "fee", "issued"]
    by_name = {c.name: c for c in table.columns}
    assert by_name["applicant_name"].sensitive and by_name["phone"].sensitive and not by_name["fee"].sensitive
    assert by_name["fee"].unit == "CNY" and by_name["applicant_name"].label == "Applicant Name"
    assert by_name["kind"].samples == ["building", "street", "event"]  # the most frequent first
    assert by_name["kind"].distinct == 3
    assert by_name["phone"].samples == []  # sensitive values never become prompt samples
    assert table.title == "Permits issued (fixture)" and len(table.version) == 16
    assert rows(registry, 'SELECT count(*) FROM permits WHERE "城市" = \'北京\'') == [(3,)]


def test_columns_record_ranges_and_examples_but_never_for_sensitive_ones(registry: ApprovedTables,
                                                                          tmp_path: Path) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text("id,name,secret,born,score\n" + "".join(
        f"{i},person {i:02d},s{i},2020-01-{i + 1:02d},{i * 1.5}\n" for i in range(31)), encoding="utf-8")
    describe = tmp_path / "people.describe.json"
    describe.write_text(json.dumps({"columns": {"secret": {"sensitive": True}, "score": {"sensitive": True}}}))
    [table], _ = registry.add(csv, describe=describe)
    by_name = {c.name: c for c in table.columns}
    assert by_name["id"].range == ["0", "30"] and by_name["born"].range == ["2020-01-01", "2020-01-31"]
    assert by_name["name"].samples == [] and by_name["name"].examples == ["person 00", "person 01", "person 02"]
    assert by_name["secret"].examples == [] and by_name["score"].range == []  # sensitive: no values at all
    from assistant.sql.generate import render_schema

    schema = render_schema([table], ranges=True)
    assert "id BIGINT  -- range: 0 .. 30" in schema and "e.g. 'person 00', 'person 01'" in schema
    assert "s1" not in schema and "45" not in schema


def test_datapackage_keeps_field_descriptions_units_and_publisher(registry: ApprovedTables) -> None:
    [table], _ = registry.add(FIXTURES / "datapackage" / "datapackage.json")
    assert table.name == "city_air" and table.publisher == "Fixture Environment Bureau"
    pm = next(c for c in table.columns if c.label == "PM2.5")
    assert pm.name == "pm2_5" and pm.unit == "ug/m3" and pm.description == "annual mean PM2.5"
    assert rows(registry, "SELECT max(pm2_5) FROM city_air") == [(89.5,)]


def test_sqlite_tables_keep_foreign_keys(registry: ApprovedTables) -> None:
    tables, _ = registry.add(FIXTURES / "pets_1.sqlite")
    assert {t.name for t in tables} == {"student", "has_pet", "pets"}
    has_pet = next(t for t in tables if t.name == "has_pet")
    assert {c.name: c.joins for c in has_pet.columns} == {"stuid": ["student.stuid"], "petid": ["pets.petid"]}
    assert rows(registry, "SELECT count(*) FROM pets") == [(3,)]


def test_parquet_and_json(registry: ApprovedTables, tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute(f"COPY (SELECT range AS n, range * 2 AS twice FROM range(4)) TO '{tmp_path / 'n.parquet'}'")
    (tmp_path / "items.json").write_text(json.dumps([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]))
    [parquet], _ = registry.add(tmp_path / "n.parquet")
    [records], _ = registry.add(tmp_path / "items.json", access_level="non-public")
    assert parquet.row_count == 4 and records.access_level == "non-public"
    assert rows(registry, "SELECT sum(twice) FROM n") == [(12,)]


def test_same_file_again_is_unchanged_and_changed_file_reloads(registry: ApprovedTables, tmp_path: Path) -> None:
    source = tmp_path / "permits.csv"
    shutil.copy(FIXTURES / "permits.csv", source)
    [first], _ = registry.add(source)
    [again], unchanged = registry.add(source)
    assert unchanged and again.version == first.version
    source.write_text(source.read_text() + "6,深圳,Zhao Min,138-0000-0006,event,75,2024-04-01\n")
    [third], unchanged = registry.add(source)
    assert not unchanged and third.version != first.version and third.row_count == 6


def test_failed_add_keeps_existing_tables_and_registry(registry: ApprovedTables) -> None:
    registry.add(FIXTURES / "permits.csv", name="broken")
    before = registry.registry_file.read_text()
    with pytest.raises(GovDataError, match=r"broken.parquet: cannot read as parquet"):
        registry.add(FIXTURES / "broken.parquet", name="broken")
    assert registry.registry_file.read_text() == before
    assert rows(registry, "SELECT count(*) FROM broken") == [(5,)]


@pytest.mark.parametrize(("path", "kwargs", "message"), [
    ("missing.csv", {}, "no such file"),
    ("datapackage", {}, "is a folder"),
    ("guard/allow.sql", {}, "unsupported table format .sql"),
    ("permits.csv", {"access_level": "secretish"}, "--access-level"),
    ("permits.csv", {"describe": "broken.describe.json"}, "--describe"),
])
def test_bad_input_is_one_clear_error(registry: ApprovedTables, path: str, kwargs: dict, message: str) -> None:
    if "describe" in kwargs:
        kwargs = {"describe": FIXTURES / kwargs["describe"]}
    with pytest.raises(GovDataError) as raised:
        registry.add(FIXTURES / path, **kwargs)
    assert re.search(message, error_text(raised.value))  # the command line names the flag
    assert not registry.registry_file.exists()


def test_approval_by_role_policy(registry: ApprovedTables) -> None:
    registry.add(FIXTURES / "permits.csv", describe=FIXTURES / "permits.describe.json",
                 access_level="restricted public")
    assert registry.approval(("public",), "deny").tables == {}
    masked = registry.approval(("public", "restricted public"), "mask").table("permits")
    denied = registry.approval(("public", "restricted public"), "deny").table("permits")
    allowed = registry.approval(("public", "restricted public"), "allow").table("permits")
    assert masked and masked.masked == {"applicant_name", "phone"} and not masked.denied
    assert denied and denied.denied == {"applicant_name", "phone"} and not denied.masked
    assert allowed and not allowed.masked and not allowed.denied


def test_names() -> None:
    assert snake_name("Applicant Name") == "applicant_name"
    assert snake_name("PM2.5") == "pm2_5" and snake_name("2019") == "c_2019" and snake_name("城市") == "城市"
    assert unique_names(["a b", "A-B", "is"], frozenset({"is"})) == ["a_b", "a_b_2", "is_"]


def test_adhoc_folder_and_sqlite_are_cached(tmp_path: Path) -> None:
    folder = tmp_path / "csvs"
    folder.mkdir()
    shutil.copy(FIXTURES / "permits.csv", folder / "permits.csv")
    shutil.copy(FIXTURES / "datapackage" / "data" / "city_air.csv", folder / "city air.csv")
    database, tables = adhoc_database(folder, tmp_path / "cache")
    assert sorted(t.name for t in tables) == ["city_air", "permits"]
    again, _ = adhoc_database(folder, tmp_path / "cache")
    assert again == database and database.is_file()
    lite, lite_tables = adhoc_database(FIXTURES / "pets_1.sqlite", tmp_path / "cache")
    assert {t.name for t in lite_tables} == {"student", "has_pet", "pets"} and lite != database


def test_sqlite_mixed_types_fall_back_to_text(registry: ApprovedTables, tmp_path: Path) -> None:
    path = tmp_path / "mixed.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (n INTEGER, x INTEGER, r REAL, mpg TEXT)")
        con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)",
                        [(1, 5, 1.5, "18"), (2, "n/a", 2, "21.5"), (3, None, "3.25", None)])
    [table], _ = registry.add(path)
    assert {c.name: c.type for c in table.columns} == {"n": "BIGINT", "x": "VARCHAR", "r": "DOUBLE", "mpg": "VARCHAR"}
    assert {c.name: c.numeric_text for c in table.columns} == {"n": False, "x": False, "r": False, "mpg": True}
    assert rows(registry, "SELECT sum(r) FROM t") == [(6.75,)]


def test_a_text_column_of_dates_is_marked_as_dates(registry: ApprovedTables, tmp_path: Path) -> None:
    path = tmp_path / "dates.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (day TEXT, updated TEXT, note TEXT)")
        con.executemany("INSERT INTO t VALUES (?, ?, ?)", [("2015-01-01", "2018/06/03 10:00", "2015-01-01"),
                                                           ("2015-01-02", "2018/06/04 11:30", "soon"),
                                                           (None, None, "later")])
    [table], _ = registry.add(path)
    assert {c.name: c.date_text for c in table.columns} == {"day": True, "updated": True, "note": False}


def test_sqlite_join_key_takes_its_targets_numeric_type(registry: ApprovedTables, tmp_path: Path) -> None:
    path = tmp_path / "keys.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT)")
        con.execute("CREATE TABLE child (pid TEXT, label TEXT, FOREIGN KEY (pid) REFERENCES parent(id))")
        con.executemany("INSERT INTO parent VALUES (?, ?)", [(1, "a"), (2, "b")])
        con.executemany("INSERT INTO child VALUES (?, ?)", [("1", "x"), ("2", "y"), ("2", "z")])
    tables, _ = registry.add(path)
    child = next(t for t in tables if t.name == "child")
    assert {c.name: c.type for c in child.columns} == {"pid": "BIGINT", "label": "VARCHAR"}
    assert child.columns[0].joins == ["parent.id"]
    assert rows(registry, "SELECT count(*) FROM child JOIN parent ON child.pid = parent.id") == [(3,)]


def test_a_datapackage_reads_the_same_for_its_catalog_record_and_its_tables(registry: ApprovedTables,
                                                                           tmp_path: Path) -> None:
    from ingest.catalogs.datapackage import load_datapackage

    folder = tmp_path / "pkg"
    shutil.copytree(FIXTURES / "datapackage", folder)
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    package.pop("sources")
    package["contributors"] = [{"title": "Bureau A"}, {"name": "Bureau B"}]
    package["licenses"] = "ODC-BY"
    (folder / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    [record] = load_datapackage(package, "pkg", "public", [])
    [table], _ = registry.add(folder / "datapackage.json")
    assert record.publisher == table.publisher == "Bureau A; Bureau B"
    assert record.license == table.license == "ODC-BY"


def test_ranges_and_examples_can_be_left_out_of_the_prompt(registry: ApprovedTables, tmp_path: Path) -> None:
    from assistant.sql.generate import render_schema

    csv = tmp_path / "t.csv"
    csv.write_text("id,name\n" + "".join(f"{i},n{i:02d}\n" for i in range(31)), encoding="utf-8")
    [table], _ = registry.add(csv)
    assert "range: 0 .. 30" in render_schema([table], ranges=True) and "e.g." in render_schema([table], ranges=True)
    assert "range:" not in render_schema([table]) and "e.g." not in render_schema([table])  # off by default
