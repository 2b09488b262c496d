"""What an approved table is: its columns, the source it is loaded from, what a steward says about it, and the
record the registry keeps."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import FieldError

UNIT_KINDS = ("person", "household", "business")  # what a table about units may be about (issue 35)


@dataclass
class ColumnInfo:
    name: str
    type: str
    label: str = ""
    description: str = ""
    unit: str = ""
    sensitive: bool = False
    samples: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)  # "table.column" this column refers to
    numeric_text: bool = False  # text column whose values are (almost all) numbers
    date_text: bool = False  # text column whose values are (almost all) dates or timestamps
    examples: list[str] = field(default_factory=list)  # a few values of a column with too many to list
    range: list[str] = field(default_factory=list)  # [min, max] of a number or date column
    distinct: int = 0  # distinct values of a text column whose samples are listed (0: not counted)


@dataclass
class TableSource:
    """One table to load: where its rows come from and what is known about it before loading."""

    name: str
    path: Path
    format: str  # csv | parquet | json | sqlite-table
    title: str = ""
    description: str = ""
    publisher: str = ""
    license: str = ""
    sqlite_table: str = ""
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # original name -> description/unit/type
    foreign_keys: dict[str, str] = field(default_factory=dict)  # original column -> "table.column" (loaded names)
    version_parts: list[Path] = field(default_factory=list)


@dataclass
class RegisteredTable:
    name: str
    title: str
    description: str
    source: str
    format: str
    access_level: str
    version: str
    row_count: int
    columns: list[ColumnInfo]
    publisher: str = ""
    license: str = ""
    registered_at: str = ""
    unit: str = ""  # person | household | business: each row is about one (disclosure control applies); "": not
    unit_column: str = ""  # the column that identifies a unit ("": each row is its own unit)
    k: int = 0  # the threshold rule's k for this table (0: GOVDATA_SDC__K)
    themes: list[str] = field(default_factory=list)  # the domains it belongs to (describe "theme"; grants by theme)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "RegisteredTable":
        columns = [ColumnInfo(**c) for c in raw.get("columns", [])]
        return cls(**{**raw, "columns": columns})


@dataclass
class Describe:
    """What a steward says about a table: titles, descriptions, units and which columns are sensitive, and whether
    each row is about a person, household or business (`unit`, `unit_column`, `k`: issue 35)."""

    title: str = ""
    description: str = ""
    publisher: str = ""
    access_level: str = ""
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)
    unit: str = ""
    unit_column: str = ""
    k: int = 0
    themes: list[str] = field(default_factory=list)


def read_describe(path: Path) -> Describe:
    """A JSON file {"title", "description", "unit", "unit_column", "k", "columns": {"col": {"description", "unit",
    "sensitive"}}} or a Frictionless table schema {"fields": [...]}."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FieldError("describe", str(exc), path) from None
    if not isinstance(raw, dict):
        raise FieldError("describe", "expected a JSON object", path)
    columns = raw.get("columns", {})
    if isinstance(raw.get("fields"), list):
        columns = {str(f.get("name")): f for f in raw["fields"] if isinstance(f, dict)}
    if not isinstance(columns, dict) or not all(isinstance(v, dict) for v in columns.values()):
        raise FieldError("describe", "\"columns\" must map column names to objects", path)
    unit, unit_column, k = _unit_of(raw, path)
    themes = raw.get("themes", raw.get("theme", []))
    themes = [themes] if isinstance(themes, str) else themes
    if not isinstance(themes, list):
        raise FieldError("describe", "\"theme\" must be a text or a list of texts", path)
    return Describe(str(raw.get("title", "")), str(raw.get("description", "")), str(raw.get("publisher", "")),
                    str(raw.get("access_level", raw.get("accessLevel", ""))), columns, unit, unit_column, k,
                    [str(t).strip() for t in themes if str(t).strip()])


def _unit_of(raw: dict[str, Any], path: Path) -> tuple[str, str, int]:
    """The table's unit declaration: what each row is about, the column that identifies one, and its k."""
    unit = str(raw.get("unit") or "").strip().lower()
    if unit and unit not in UNIT_KINDS:
        raise FieldError("describe", f"\"unit\" must be one of {', '.join(UNIT_KINDS)}", path)
    unit_column = str(raw.get("unit_column") or "").strip()
    if unit_column and not unit:
        raise FieldError("describe", "\"unit_column\" needs \"unit\" (person, household or business)", path)
    k = raw.get("k", 0)
    if isinstance(k, bool) or not isinstance(k, int) or k < 0 or (k and k < 2):
        raise FieldError("describe", "\"k\" must be a whole number of at least 2", path)
    return unit, unit_column, k
