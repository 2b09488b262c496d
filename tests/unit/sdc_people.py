"""A synthetic person-level table for the disclosure-control tests and bench (issue 35): seeded, a few thousand
people with planted rare combinations, and two public lookup tables that a join could use to single one out."""

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SEED = 35
PEOPLE = 3000
WARDS = {"north": 0.22, "south": 0.2, "east": 0.18, "west": 0.15, "river": 0.1, "hill": 0.08, "park": 0.06,
         "harbour": 0.01}
DIAGNOSES = {"none": 0.46, "hypertension": 0.2, "diabetes": 0.16, "asthma": 0.12, "cancer": 0.06}
# Planted people: the only 97-year-old in harbour (a unique combination of public facts), the only person aged
# 31 (two `age >` counts differ by this person alone), and one income that dominates its ward's total.
UNIQUE = {"person_id": 101, "name": "Hester Quayle", "ward": "harbour", "age": 97, "sex": "F",
          "diagnosis": "tuberculosis", "income": 41234.5, "visits": 17}
LONE_31 = {"person_id": 202, "name": "Tobias Wren", "ward": "east", "age": 31, "sex": "M", "diagnosis": "diabetes",
           "income": 38750.25, "visits": 3}
RICH = {"person_id": 303, "name": "Cordelia Vane", "ward": "hill", "age": 52, "sex": "F", "diagnosis": "none",
        "income": 100_000_000.0, "visits": 1}
PLANTED = {p["person_id"]: p for p in (UNIQUE, LONE_31, RICH)}
COLUMNS = ["person_id", "name", "ward", "age", "sex", "diagnosis", "income", "visits"]


@dataclass(frozen=True)
class Clinic:
    """The files to register and the true rows (what every attack tries to learn)."""

    people: Path
    describe: Path
    wards: Path
    councillors: Path
    rows: list[dict[str, Any]]


def people_rows(count: int = PEOPLE, seed: int = SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for person_id in range(1, count + 1):
        if person_id in PLANTED:
            rows.append(dict(PLANTED[person_id]))
            continue
        ward = rng.choices(list(WARDS), weights=list(WARDS.values()))[0]
        age = min(95, max(18, round(rng.gauss(48, 18))))
        if age == 31:
            age = 32  # one person aged 31
        rows.append({"person_id": person_id, "name": f"Person {person_id:04d}", "ward": ward, "age": age,
                     "sex": rng.choice("FM"),
                     "diagnosis": rng.choices(list(DIAGNOSES), weights=list(DIAGNOSES.values()))[0],
                     "income": round(rng.lognormvariate(10.5, 0.6), 2), "visits": rng.randint(0, 12)})
    return rows


def write_clinic(folder: Path, count: int = PEOPLE, seed: int = SEED, *, unit_column: bool = True) -> Clinic:
    """people.csv (a table about people: unit person, unit column person_id unless `unit_column` is false, when
    rows are the units and person_id an ordinary column; name sensitive) with its describe file, wards.csv
    (public: ward, region) and councillors.csv (public: names with ward, age and sex)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = people_rows(count, seed)
    people = folder / "people.csv"
    with people.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    describe = folder / "people.describe.json"
    declared = {"title": "Clinic patients", "unit": "person", **({"unit_column": "person_id"} if unit_column else {}),
                "columns": {"name": {"sensitive": True}}}
    describe.write_text(json.dumps(declared), encoding="utf-8")
    wards = folder / "wards.csv"
    wards.write_text("ward,region\n" + "".join(f"{w},{'coast' if w in ('harbour', 'river') else 'inland'}\n"
                                               for w in WARDS), encoding="utf-8")
    councillors = folder / "councillors.csv"
    councillors.write_text("councillor,ward,age,sex\nQuayle,harbour,97,F\nMorrow,north,45,M\nAshby,south,50,F\n",
                           encoding="utf-8")
    return Clinic(people, describe, wards, councillors, rows)
