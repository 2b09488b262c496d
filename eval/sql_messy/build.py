"""Builds the SQLite databases of the messy-schema text-to-SQL split from real public files, as a person would
load them with `pandas.read_csv(...).to_sql(...)`: the source's own headers as column names (spaces, dots,
capitals and Chinese kept), numbers typed where every value of a column is a number, empty cells NULL. No
descriptions, no renaming, no cleaning: the point is schemas we did not write.

    python eval/sql_messy/build.py            # writes eval/sql_messy/database/<db>/<db>.sqlite

Idempotent: a database is rebuilt only when missing. Sources: data/tables (see data/tables/SOURCES.md) and
eval/sql_messy/sources (Taiwan city open-data portal lists, MIT, see README.md).
"""

import csv
import json
import sqlite3
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TABLES = HERE.parents[1] / "data" / "tables"
SOURCES = HERE / "sources"

# database -> table -> source file (CSV with a header row, or a JSON list of objects)
DATABASES: dict[str, dict[str, Path]] = {
    "beijing_air": {"PRSA_data": TABLES / "beijing_pm25" / "beijing_pm25.csv"},
    "nyc_311": {"311_Service_Requests": TABLES / "nyc311" / "nyc311_service_requests.csv"},
    "world_bank": {
        "population": TABLES / "datahub_population" / "data" / "population.csv",
        "gdp": TABLES / "datahub_gdp" / "data" / "gdp.csv",
        "top-economies": TABLES / "datahub_gdp" / "data" / "top-economies.csv",
    },
    "noaa_co2": {  # the monthly files are left out: their headers do not match their columns
        "co2-annmean-mlo": TABLES / "datahub_co2-ppm" / "data" / "co2-annmean-mlo.csv",
        "co2-annmean-gl": TABLES / "datahub_co2-ppm" / "data" / "co2-annmean-gl.csv",
        "co2-gr-mlo": TABLES / "datahub_co2-ppm" / "data" / "co2-gr-mlo.csv",
        "co2-gr-gl": TABLES / "datahub_co2-ppm" / "data" / "co2-gr-gl.csv",
    },
    "vega_misc": {
        "seattle-weather": TABLES / "vega" / "seattle-weather.csv",
        "iowa-electricity": TABLES / "vega" / "iowa-electricity.csv",
        "us-employment": TABLES / "vega" / "us-employment.csv",
        "airports": TABLES / "vega" / "airports.csv",
    },
    "tw_portals": {
        "臺中市資料清冊": SOURCES / "08_taichung.json",
        "臺南市資料清冊": SOURCES / "05_tainan.json",
    },
}


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows as text; a JSON list of objects takes the union of its keys, in first-seen order."""
    if path.suffix == ".json":
        records = json.loads(path.read_text(encoding="utf-8"))
        header = list(dict.fromkeys(key for record in records for key in record))
        return header, [["" if r.get(k) is None else str(r.get(k)) for k in header] for r in records]
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, [row[: len(header)] + [""] * (len(header) - len(row)) for row in reader]


def column_type(values: Iterable[str]) -> str:
    kinds = set()
    for value in values:
        text = value.strip()
        if not text:
            continue
        try:
            int(text)
            kinds.add("INTEGER")
            continue
        except ValueError:
            pass
        try:
            float(text)
            kinds.add("REAL")
        except ValueError:
            return "TEXT"
    return "REAL" if "REAL" in kinds else "INTEGER" if kinds else "TEXT"


def convert(value: str, kind: str) -> Any:
    if not value.strip():
        return None
    if kind == "INTEGER":
        return int(value.strip())
    if kind == "REAL":
        return float(value.strip())
    return value


def build(name: str, tables: dict[str, Path], root: Path) -> Path:
    target = root / name / f"{name}.sqlite"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    con = sqlite3.connect(partial)
    for table, source in tables.items():
        header, rows = read_rows(source)
        kinds = [column_type(row[i] for row in rows) for i in range(len(header))]
        columns = ", ".join(f'"{h}" {k}' for h, k in zip(header, kinds, strict=True))
        con.execute(f'CREATE TABLE "{table}" ({columns})')
        marks = ", ".join("?" for _ in header)
        con.executemany(f'INSERT INTO "{table}" VALUES ({marks})',
                        ([convert(v, k) for v, k in zip(row, kinds, strict=True)] for row in rows))
    con.commit()
    con.close()
    partial.replace(target)
    return target


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "database"
    for name, tables in DATABASES.items():
        print(build(name, tables, root))


if __name__ == "__main__":
    main()
