"""Statistical disclosure control (issue 35): the rules that turn aggregates over a table about people, households or
businesses into cells that cannot single anyone out. Pure functions on the engine's rows, each carrying hidden
companions that `sdc_rewrite.py` asks the engine for: per cell, how many units contributed, a cell key (the sum of
their record keys), and for sums the largest unit contributions.

- threshold: a cell computed from fewer than k units is suppressed; a group of fewer than k units is not shown at
  all (its row would tell that such a group exists);
- dominance: a sum or mean where the largest n units make up more than a share of the total is suppressed;
- cell-key perturbation: every released count and sum gets noise from two layers, one seeded by the cell key (the
  same units always get the same noise, so repeating or rewording a query cannot average it away) and one seeded
  by the query's own wording (so two queries over the same units do not give the same number, which would tell
  that one person is not in the difference);
- secondary suppression: margins in the same result (ROLLUP, CUBE, GROUPING SETS) and cells of one measure in a
  row never leave exactly one hidden part, so a total minus what is shown cannot recover it.
"""

import hashlib
import hmac
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

UNITS = ("person", "household", "business")
RECORD_KEY_PRIME = 2**61 - 1  # cell keys are sums of record keys modulo this prime
SUPPRESSED = "suppressed (fewer than {k})"
DOMINATED = "suppressed (one or two {units} make up most of it)"
SECONDARY = "suppressed (protects another cell)"
_MARKS = ("suppressed (",)
KINDS = ("count", "count_distinct", "sum", "avg")
AUDIT_ONLY = ("hidden_groups", "threshold_cells", "dominance_cells")


@dataclass(frozen=True)
class SdcRules:
    """The rules' settings (GOVDATA_SDC__*, docs/configuration.md); `k` may be set per table."""

    k: int = 5
    dominance_n: int = 2
    dominance_share: float = 0.85
    count_noise: int = 2
    sum_noise: float = 0.1
    query_noise: float = 1.0
    max_groups: int = 20_000

    @classmethod
    def of(cls, settings: Any, k: int | None = None) -> "SdcRules":
        return cls(k=k or settings.k, dominance_n=settings.dominance_n, dominance_share=settings.dominance_share,
                   count_noise=settings.count_noise, sum_noise=settings.sum_noise, query_noise=settings.query_noise,
                   max_groups=settings.max_groups)

    @property
    def query_span(self) -> int:
        """How far the query layer moves a count: `query_noise` times the cell layer's span."""
        return round(self.count_noise * self.query_noise)


@dataclass(frozen=True)
class Cell:
    """One aggregate as the engine computed it, with what the rules need: the contributing units, their cell key
    and, for sums, the largest absolute unit contributions and the sum of all absolute contributions."""

    value: Any
    units: int
    key: int
    top: tuple[float, ...] = ()
    total: float = 0.0
    whole: bool = False  # a sum of whole numbers (the argument's type), shown without decimals


@dataclass(frozen=True)
class Measure:
    """One aggregate output: its kind, what is applied to the released value (round's digits, a cast to integer
    or float) and its family (cells of one family in one row may add up to each other)."""

    kind: str
    digits: int | None = None
    cast: str = ""
    family: str = ""
    text: str = ""  # the aggregate as written (with its FILTER): with the grouping, seeds the query layer

    @property
    def width(self) -> int:
        """How many engine columns its companions take (see `cells_of`)."""
        return {"count": 3, "count_distinct": 3, "sum": 6, "avg": 9}[self.kind]


@dataclass(frozen=True)
class Output:
    """One column the caller asked for: a grouping key, a measure, or a constant."""

    name: str
    key: int | None = None
    measure: int | None = None
    constant: Any = None


@dataclass(frozen=True)
class Layout:
    """How to read the engine's rows (`[grouping id, group units, keys..., companions of each measure...]`) and
    what the caller asked for: outputs, order, limit, offset. `definition` (the query's FROM, WHERE and GROUP BY as
    checked) seeds the query layer with each measure's text, so aliases, output order and LIMIT change no answer."""

    table: str
    unit: str
    keys: int
    measures: tuple[Measure, ...]
    outputs: tuple[Output, ...]
    grouped: bool
    definition: str
    order: tuple[tuple[int, bool], ...] = ()  # (output index, descending)
    limit: int | None = None
    offset: int = 0


@dataclass(frozen=True)
class Protected:
    """What leaves the rules: the caller's columns and rows, and the report (receipts keep it whole; `public`
    is what the caller sees)."""

    columns: list[str]
    rows: list[list[Any]]
    report: dict[str, Any] = field(default_factory=dict)


def is_suppressed(value: Any) -> bool:
    """Whether a result cell is a suppression mark rather than a value."""
    return isinstance(value, str) and value.startswith(_MARKS)


def public(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """The report as the caller may see it: how many hidden groups there were is for the receipt only (it would
    tell whether a group of fewer than k exists)."""
    if report is None:
        return None
    return {k: v for k, v in report.items() if k not in AUDIT_ONLY}


# ---- noise: deterministic, from a secret the caller never sees ----

def _uniform(secret: bytes, *parts: Any) -> float:
    digest = hmac.new(secret, "\x1f".join(map(str, parts)).encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def integer_noise(secret: bytes, span: int, *parts: Any) -> int:
    """A whole number in [-span, span], each equally likely, fixed by the parts."""
    if span <= 0:
        return 0
    return math.floor(_uniform(secret, *parts) * (2 * span + 1)) - span


def signed_noise(secret: bytes, *parts: Any) -> float:
    """A number in [-1, 1), fixed by the parts."""
    return 2 * _uniform(secret, *parts) - 1


# ---- primary rules ----

def below_threshold(cell: Cell, k: int) -> bool:
    return cell.units < k


def dominated(cell: Cell, n: int, share: float) -> bool:
    """The n largest unit contributions make up more than `share` of the cell's total (absolute values)."""
    if cell.total <= 0:
        return False
    return sum(sorted(cell.top, reverse=True)[:n]) > share * cell.total


def perturbed_count(cell: Cell, rules: SdcRules, secret: bytes, seed: str, floor: int) -> int:
    """The count plus the cell layer (seeded by the units' cell key and the true value) and the query layer
    (seeded by the query's wording and the cell's place in it), never below `floor`."""
    value = int(cell.value or 0)
    noise = integer_noise(secret, rules.count_noise, "count", cell.key, value)
    noise += integer_noise(secret, rules.query_span, "count-query", seed)
    return max(floor, value + noise)


def perturbed_sum(cell: Cell, rules: SdcRules, secret: bytes, seed: str) -> float:
    """The sum plus noise proportional to its largest unit contribution, in the same two layers."""
    scale = rules.sum_noise * (max(cell.top) if cell.top else 0.0)
    noise = scale * signed_noise(secret, "sum", cell.key)
    noise += scale * rules.query_noise * signed_noise(secret, "sum-query", seed)
    return float(cell.value or 0) + noise


@dataclass(frozen=True)
class Release:
    """A released value, or None with the rule that suppressed it (threshold, dominance)."""

    value: Any = None
    rule: str = ""


def release(measure: Measure, cells: Sequence[Cell], rules: SdcRules, secret: bytes, seed: str) -> Release:
    """The value one measure may show for one cell, or the rule that suppresses it."""
    first = cells[0]
    if below_threshold(first, rules.k):
        return Release(rule="threshold")
    if measure.kind == "count_distinct" and int(first.value or 0) < rules.k:
        return Release(rule="threshold")  # fewer than k distinct values: a small number made from a few people
    if measure.kind in ("count", "count_distinct"):
        return Release(_finish(measure, perturbed_count(first, rules, secret, seed, rules.k)))
    if first.value is None:  # no total (the rewrite caps each row's value, so one beyond DOUBLE cannot come): not shown
        return Release(rule="threshold")
    if dominated(first, rules.dominance_n, rules.dominance_share):
        return Release(rule="dominance")
    total = perturbed_sum(first, rules, secret, seed)
    if measure.kind == "sum":
        return Release(_finish(measure, _like(first, total)))
    counted = cells[1]
    if below_threshold(counted, rules.k):
        return Release(rule="threshold")
    return Release(_finish(measure, total / perturbed_count(counted, rules, secret, seed + "#n", rules.k)))


def _like(cell: Cell, released: float) -> Any:
    """Whole numbers stay whole; other sums keep two decimals (more would only show the noise)."""
    return round(released) if cell.whole or isinstance(cell.value, int) else round(released, 2)


def _finish(measure: Measure, value: Any) -> Any:
    if measure.cast == "int":
        value = round(value)
    elif measure.cast == "float":
        value = float(value)
    if measure.digits is not None:
        value = round(value, measure.digits) if measure.digits > 0 else round(value)
    elif isinstance(value, float) and measure.kind == "avg":
        value = round(value, 4)
    return value


def cells_of(measure: Measure, values: Sequence[Any]) -> tuple[Cell, ...]:
    """A measure's companions read from its engine columns: count kinds (value, units, key); sum (value, units,
    key, top contributions, total of absolute contributions, the argument's type); avg (the sum's six, then its
    count's three). Sums come in DOUBLE (NULL when they overflow); the type says whether they are of whole numbers."""
    if measure.kind in ("count", "count_distinct"):
        return (_cell(values[0:3]),)
    summed = _cell(values[0:3], values[3], values[4], str(values[5] or "").upper() in _WHOLE_TYPES)
    return (summed,) if measure.kind == "sum" else (summed, _cell(values[6:9]))


_WHOLE_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                          "UINTEGER", "UBIGINT", "UHUGEINT", "BOOLEAN"})


def _cell(parts: Sequence[Any], top: Any = None, total: Any = None, whole: bool = False) -> Cell:
    value, units, key = parts
    tops = tuple(abs(float(t)) for t in top or () if t is not None)
    return Cell(value, int(units or 0), int(key or 0), tops, abs(float(total or 0)), whole)


# ---- the whole result ----

@dataclass
class _Grid:
    """The engine's rows as the rules work on them: key values, grouping levels, and per measure a released value
    or the rule that hid it."""

    layout: Layout
    levels: list[frozenset[int]]
    keys: list[tuple[Any, ...]]
    sizes: list[list[float]]  # per row, per measure: how big the cell is (for picking secondary cells)
    cells: list[list[Release]]
    hidden: list[bool]  # the row's group has fewer than k units


def protect(layout: Layout, rows: Sequence[Sequence[Any]], rules: SdcRules, secret: bytes) -> Protected:
    """Apply every rule to the engine's rows: primary suppression, perturbation, hidden groups, secondary
    suppression; then the caller's columns, order, offset and limit, and the report."""
    grid = _grid(layout, rows, rules, secret)
    secondary = _secondary(grid)
    columns = [o.name for o in layout.outputs]
    shown = [_row(layout, grid, i, rules.k) for i in range(len(rows)) if not grid.hidden[i]]
    report = _report(layout, grid, rules)
    report["secondary"] = secondary
    return Protected(columns, _ordered(layout, shown), report)


def _grid(layout: Layout, rows: Sequence[Sequence[Any]], rules: SdcRules, secret: bytes) -> _Grid:
    grid = _Grid(layout, [], [], [], [], [])
    for row in rows:
        grouping, units, keys = int(row[0] or 0), int(row[1] or 0), tuple(row[2:2 + layout.keys])
        active = frozenset(i for i in range(layout.keys) if not grouping >> (layout.keys - 1 - i) & 1)
        grid.levels.append(active)
        grid.keys.append(keys)
        grid.hidden.append(layout.grouped and units < rules.k)
        place = json.dumps([grouping, [str(k) for k in keys]], ensure_ascii=False)
        released: list[Release] = []
        sizes: list[float] = []
        offset = 2 + layout.keys
        for measure in layout.measures:
            cells = cells_of(measure, row[offset:offset + measure.width])
            offset += measure.width
            seed = f"{layout.definition}\x1f{measure.text}\x1f{place}"
            released.append(release(measure, cells, rules, secret, seed))
            sizes.append(abs(float(cells[0].value or 0)) if not isinstance(cells[0].value, str) else 0.0)
        grid.cells.append(released)
        grid.sizes.append(sizes)
    return grid


def _open(grid: _Grid, row: int, measure: int) -> bool:
    return not grid.hidden[row] and grid.cells[row][measure].rule == ""


def _secondary(grid: _Grid) -> int:
    """Suppress more cells until no relation in the result has exactly one hidden part (hidden rows count as
    hidden): a margin and the cells of a finer level under it, two levels that split the same rows (GROUPING SETS
    ((a), (b)) both add up to the total), and the cells of one family in one row."""
    relations = _relations(grid)
    additive = [m for m, measure in enumerate(grid.layout.measures) if measure.kind != "count_distinct"]
    added, changed = 0, True
    while changed:
        changed = False
        for members, preferred in relations:
            for measure in additive:
                closed = [r for r in members if not _open(grid, r, measure)]
                if len(closed) != 1:
                    continue
                pick = _smallest(grid, [r for r in preferred if _open(grid, r, measure)], measure)
                if pick is None:
                    pick = _smallest(grid, [r for r in members if _open(grid, r, measure)], measure)
                if pick is None:
                    continue
                grid.cells[pick][measure] = Release(rule="secondary")
                added, changed = added + 1, True
        for row in range(len(grid.cells)):
            added_here = _close_families(grid, row)
            added, changed = added + added_here, changed or added_here > 0
    return added


def _smallest(grid: _Grid, rows: list[int], measure: int) -> int | None:
    return min(rows, key=lambda r: (grid.sizes[r][measure], r)) if rows else None


def _close_families(grid: _Grid, row: int) -> int:
    """Cells of one family in one row (count(*) and its FILTERed parts; sums and means of one column) may add up:
    once one is hidden, all are."""
    if grid.hidden[row]:
        return 0
    families: dict[str, list[int]] = {}
    for index, measure in enumerate(grid.layout.measures):
        if measure.kind != "count_distinct":
            families.setdefault(measure.family, []).append(index)
    added = 0
    for members in families.values():
        if len(members) > 1 and any(not _open(grid, row, m) for m in members):
            for m in members:
                if _open(grid, row, m):
                    grid.cells[row][m] = Release(rule="secondary")
                    added += 1
    return added


def _relations(grid: _Grid) -> list[tuple[list[int], list[int]]]:
    """Every linear relation among the result's rows, as (members, the members to suppress first): a margin with
    the rows of each finer level under it (children first), and two levels neither finer than the other with the
    rows of each that share their common keys (both sum to the same total)."""
    levels = sorted(set(grid.levels), key=sorted)
    rows_at: dict[frozenset[int], list[int]] = {level: [] for level in levels}
    for row, level in enumerate(grid.levels):
        rows_at[level].append(row)

    def grouped(level: frozenset[int], on: frozenset[int]) -> dict[tuple[Any, ...], list[int]]:
        groups: dict[tuple[Any, ...], list[int]] = {}
        for row in rows_at[level]:
            groups.setdefault(_project(grid.keys[row], on), []).append(row)
        return groups

    out: list[tuple[list[int], list[int]]] = []
    for coarse in levels:
        for finer in (f for f in levels if coarse < f):
            parts = grouped(finer, coarse)
            for margin in rows_at[coarse]:
                children = parts.get(_project(grid.keys[margin], coarse), [])
                if children:
                    out.append(([margin, *children], children))
    for n, first in enumerate(levels):
        for second in levels[n + 1:]:
            if first < second or second < first:
                continue
            common = first & second
            left, right = grouped(first, common), grouped(second, common)
            for shared, rows in left.items():
                members = rows + right.get(shared, [])
                out.append((members, members))
    return out


def _project(keys: tuple[Any, ...], level: frozenset[int]) -> tuple[Any, ...]:
    return tuple(json.dumps(keys[i], default=str) for i in sorted(level))


def _row(layout: Layout, grid: _Grid, index: int, k: int) -> list[Any]:
    out = []
    for output in layout.outputs:
        if output.key is not None:
            out.append(grid.keys[index][output.key])
        elif output.measure is not None:
            out.append(shown(grid.cells[index][output.measure], layout.unit, k))
        else:
            out.append(output.constant)
    return out


def shown(cell: Release, unit: str, k: int) -> Any:
    """A released value, or the words that say which rule suppressed it."""
    if cell.rule == "":
        return cell.value
    if cell.rule == "dominance":
        return DOMINATED.format(units=plural(unit))
    if cell.rule == "secondary":
        return SECONDARY
    return SUPPRESSED.format(k=k)


def plural(unit: str) -> str:
    return {"person": "people", "business": "businesses"}.get(unit, unit + "s")


def _ordered(layout: Layout, rows: list[list[Any]]) -> list[list[Any]]:
    """The caller's ORDER BY on released values (suppressed last), else by the keys; then OFFSET and LIMIT."""
    if layout.order:
        for position, descending in reversed(layout.order):
            rows.sort(key=lambda r, p=position: _sort_key(r[p]), reverse=descending)  # type: ignore[misc]
            if descending:  # suppressed and NULL still last
                rows.sort(key=lambda r, p=position: not _sortable(r[p]))  # type: ignore[misc]
    else:
        rows.sort(key=lambda r: [_sort_key(v) for v in r])
    end = None if layout.limit is None else layout.offset + layout.limit
    return rows[layout.offset:end]


def _sortable(value: Any) -> bool:
    return value is not None and not is_suppressed(value)


def _sort_key(value: Any) -> tuple[int, Any]:
    if not _sortable(value):
        return (2, "")
    if isinstance(value, bool | int | float):
        return (0, value)
    return (1, str(value))


def _report(layout: Layout, grid: _Grid, rules: SdcRules) -> dict[str, Any]:
    shown = [i for i in range(len(grid.cells)) if not grid.hidden[i]]
    rules_by_cell = [grid.cells[i][m].rule for i in shown for m in range(len(layout.measures))]
    kinds = {m.kind for m in layout.measures}
    applied = ["threshold", *(["dominance"] if kinds & {"sum", "avg"} else []), "cell-key"]
    if len(set(grid.levels)) > 1 or any(len(v) > 1 for v in _families(layout).values()):
        applied.append("secondary")
    perturbed = sum(1 for r in rules_by_cell if r == "")
    return {
        "unit": layout.unit, "table": layout.table, "k": rules.k, "rules": applied,
        "suppressed": sum(1 for r in rules_by_cell if r in ("threshold", "dominance")),
        "secondary": sum(1 for r in rules_by_cell if r == "secondary"), "perturbed": perturbed,
        "notice": notice(layout.table, layout.unit, rules, kinds),
        "hidden_groups": sum(grid.hidden), "threshold_cells": rules_by_cell.count("threshold"),
        "dominance_cells": rules_by_cell.count("dominance"),
    }


def _families(layout: Layout) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for index, measure in enumerate(layout.measures):
        if measure.kind != "count_distinct":
            out.setdefault(measure.family, []).append(index)
    return out


def notice(table: str, unit: str, rules: SdcRules, kinds: set[str]) -> str:
    """What the caller is told about every protected result (the same words whatever was hidden)."""
    span, units = rules.count_noise + rules.query_span, plural(unit)
    parts = [f"Disclosure control: {table} is a table about {units}, so only aggregates are shown.",
             f"Groups of fewer than {rules.k} {units} are not shown and cells computed from fewer than {rules.k} "
             "are suppressed (threshold rule).",
             f"Counts are perturbed by the cell-key method (by at most {span}; the same {units} and wording always "
             "get the same answer)."]
    if kinds & {"sum", "avg"}:
        share = round(100 * rules.sum_noise * (1 + rules.query_noise))
        parts.append(f"Sums and means are perturbed by the cell-key method too (by up to {share}% of the largest "
                     f"contribution) and suppressed where {rules.dominance_n} {units} make up more than "
                     f"{round(100 * rules.dominance_share)}% (dominance rule).")
    return " ".join(parts)
