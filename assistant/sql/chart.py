"""Which chart suits a result: picked from the columns' values, so the workbench can draw it without asking."""

import re
from dataclasses import dataclass
from typing import Any, Literal

from assistant.sql.sdc import is_suppressed

ChartKind = Literal["bar", "line", "scatter"]
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2}([T ][\d:.]+)?)?)?$")


@dataclass(frozen=True)
class ChartSpec:
    kind: ChartKind
    x: str
    y: str


def _numeric(values: list[Any]) -> bool:
    present = [v for v in values if v is not None and not is_suppressed(v)]  # a suppressed cell is a gap
    return bool(present) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)


def _temporal(name: str, values: list[Any]) -> bool:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, str) and _DATE.match(v) for v in present):
        return True
    return name.lower() in {"year", "month", "date", "day", "年", "年份", "月份", "日期"} and _numeric(values)


def pick_chart(columns: list[str], rows: list[list[Any]]) -> ChartSpec | None:
    """Line for a time axis, bar for categories, scatter for two measures; None when nothing fits."""
    if len(rows) < 2 or len(columns) < 2:
        return None
    values = {name: [row[i] for row in rows] for i, name in enumerate(columns)}
    measures = [c for c in columns if _numeric(values[c]) and not _temporal(c, values[c])]
    times = [c for c in columns if _temporal(c, values[c])]
    labels = [c for c in columns if c not in measures and c not in times]
    if times and measures:
        return ChartSpec("line", times[0], measures[0])
    if labels and measures:
        return ChartSpec("bar", labels[0], measures[0])
    if len(measures) >= 2:
        return ChartSpec("scatter", measures[0], measures[1])
    return None
