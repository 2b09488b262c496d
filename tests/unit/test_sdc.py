"""The disclosure-control rules (issue 35) as pure functions on rows and their companions (assistant/sql/sdc.py)."""

from collections import Counter

import pytest

from assistant.sql import sdc
from assistant.sql.sdc import Cell, Layout, Measure, Output, Release, SdcRules

SECRET = b"s" * 32
RULES = SdcRules()


def test_noise_is_fixed_by_its_parts_and_spread_evenly() -> None:
    assert sdc.integer_noise(SECRET, 2, "count", 7, 10) == sdc.integer_noise(SECRET, 2, "count", 7, 10)
    draws = Counter(sdc.integer_noise(SECRET, 2, "count", key, 10) for key in range(5000))
    assert set(draws) == {-2, -1, 0, 1, 2} and min(draws.values()) > 900
    assert sdc.integer_noise(SECRET, 0, "count", 1) == 0
    assert sdc.integer_noise(b"t" * 32, 2, "count", 7, 10) != sdc.integer_noise(SECRET, 2, "count", 7, 10) or \
        sdc.integer_noise(b"t" * 32, 2, "count", 8, 10) != sdc.integer_noise(SECRET, 2, "count", 8, 10)
    assert all(-1 <= sdc.signed_noise(SECRET, "sum", k) < 1 for k in range(100))


def test_a_count_from_fewer_than_k_units_is_suppressed_and_others_move_a_little() -> None:
    count = Measure("count")
    assert sdc.release(count, [Cell(40, 4, 11)], RULES, SECRET, "q").rule == "threshold"
    values = [sdc.release(count, [Cell(40, 40, key)], RULES, SECRET, "q").value for key in range(300)]
    assert all(36 <= v <= 44 for v in values) and len(set(values)) == 5  # the cell-key layer: 5 values
    assert sdc.release(count, [Cell(5, 5, 3)], RULES, SECRET, "q").value >= RULES.k  # never shown below k
    same = sdc.release(count, [Cell(40, 40, 9)], RULES, SECRET, "q")
    assert same == sdc.release(count, [Cell(40, 40, 9)], RULES, SECRET, "q")  # the same units, the same answer


def test_dominance_suppresses_sums_and_means_where_two_units_make_up_most() -> None:
    dominated = Cell(1000.0, 10, 5, (800.0, 100.0), 1000.0)
    spread = Cell(1000.0, 10, 5, (150.0, 120.0), 1000.0)
    assert sdc.dominated(dominated, 2, 0.85) and not sdc.dominated(spread, 2, 0.85)
    assert sdc.dominated(Cell(1000.0, 10, 5, (900.0,), 1000.0), 1, 0.85)
    assert sdc.release(Measure("sum"), [dominated], RULES, SECRET, "q").rule == "dominance"
    released = sdc.release(Measure("sum"), [spread], RULES, SECRET, "q").value
    assert abs(released - 1000.0) <= 2 * 0.1 * 150.0
    mean = sdc.release(Measure("avg", digits=1), [spread, Cell(10, 10, 6)], RULES, SECRET, "q").value
    assert 70 < mean < 160 and round(mean, 1) == mean
    assert sdc.release(Measure("avg"), [spread, Cell(10, 4, 6)], RULES, SECRET, "q").rule == "threshold"
    assert isinstance(sdc.release(Measure("sum"), [Cell(1000, 10, 5, (150.0,), 1000.0)], RULES, SECRET, "q").value,
                      int)


def test_the_query_layer_changes_with_the_wording_and_zero_turns_it_off() -> None:
    cell = [Cell(500, 500, 42)]
    worded = {sdc.release(Measure("count"), cell, RULES, SECRET, f"wording {n}").value for n in range(40)}
    assert len(worded) > 3
    quiet = SdcRules(query_noise=0.0)
    assert len({sdc.release(Measure("count"), cell, quiet, SECRET, f"wording {n}").value for n in range(40)}) == 1


def _layout(keys: int, measures: tuple[Measure, ...], grouped: bool = True, **extra: object) -> Layout:
    outputs = tuple(Output(f"k{i}", key=i) for i in range(keys)) + tuple(
        Output(f"m{i}", measure=i) for i in range(len(measures)))
    return Layout("people", "person", keys, measures, outputs, grouped, "def", **extra)  # type: ignore[arg-type]


def _count(value: int, units: int | None = None, key: int = 1) -> list[object]:
    return [value, value if units is None else units, key]


def test_small_groups_are_not_shown_and_an_ungrouped_row_always_is() -> None:
    layout = _layout(1, (Measure("count"),))
    rows = [[0, 30, "north", *_count(30, key=1)], [0, 2, "harbour", *_count(2, key=2)]]
    protected = sdc.protect(layout, rows, RULES, SECRET)
    assert [r[0] for r in protected.rows] == ["north"]
    assert protected.report["hidden_groups"] == 1 and "hidden_groups" not in sdc.public(protected.report)
    alone = sdc.protect(_layout(0, (Measure("count"),), grouped=False), [[0, 0, *_count(0, key=0)]], RULES, SECRET)
    assert alone.rows == [["suppressed (fewer than 5)"]]


def test_a_margin_never_leaves_exactly_one_hidden_part() -> None:
    """ROLLUP(ward): the total, three wards; harbour (2 people) is hidden, so the smallest other ward is
    suppressed too and total minus the shown wards covers two."""
    layout = _layout(1, (Measure("count", family="count"),))
    rows = [[1, 62, None, *_count(62, key=9)], [0, 40, "north", *_count(40, key=1)],
            [0, 20, "south", *_count(20, key=2)], [0, 2, "harbour", *_count(2, key=3)]]
    protected = sdc.protect(layout, rows, RULES, SECRET)
    shown = {r[0]: r[1] for r in protected.rows}
    assert "harbour" not in shown and shown["south"] == sdc.SECONDARY and isinstance(shown["north"], int)
    assert protected.report["secondary"] == 1 and "secondary" in protected.report["rules"]


def test_two_levels_that_split_the_same_rows_are_a_relation_too() -> None:
    """GROUPING SETS ((sex), (ward)): both sum to the total, so one hidden ward would be total(sex) - wards."""
    layout = _layout(2, (Measure("count", family="count"),))
    rows = [[1, 30, "F", None, *_count(30, key=1)], [1, 32, "M", None, *_count(32, key=2)],
            [2, 40, None, "north", *_count(40, key=3)], [2, 20, None, "south", *_count(20, key=4)],
            [2, 2, None, "harbour", *_count(2, key=5)]]
    shown = {tuple(r[:2]): r[2] for r in sdc.protect(layout, rows, RULES, SECRET).rows}
    assert sum(1 for v in shown.values() if sdc.is_suppressed(v)) >= 1


def test_cells_of_one_family_in_a_row_are_hidden_together() -> None:
    """count(*), count(*) FILTER (sex = 'F'), count(*) FILTER (sex = 'M'): F has 3 people, so the total and M
    (which would give total - M = F) are hidden too; a mean of another column stays."""
    measures = (Measure("count", family="count"), Measure("count", family="count"),
                Measure("count", family="count"), Measure("avg", family="sum:age"))
    layout = _layout(0, measures, grouped=False)
    row = [0, 40, *_count(40, key=1), *_count(3, key=2), *_count(37, key=3),
           1800, 40, 4, [70, 65], 1800, "BIGINT", *_count(40, key=1)]
    [shown] = sdc.protect(layout, [row], RULES, SECRET).rows
    assert shown[:3] == [sdc.SECONDARY, "suppressed (fewer than 5)", sdc.SECONDARY]
    assert isinstance(shown[3], float)


def test_order_offset_and_limit_apply_to_released_values_with_suppressed_last() -> None:
    layout = _layout(1, (Measure("count"),), order=((1, True),), limit=2, offset=0)
    rows = [[0, 10, "a", *_count(10, key=1)], [0, 90, "b", *_count(90, key=2)],
            [0, 50, "c", *_count(50, 4, key=3)], [0, 40, "d", *_count(40, key=4)]]
    protected = sdc.protect(layout, rows, RULES, SECRET)
    assert [r[0] for r in protected.rows] == ["b", "d"]
    everything = sdc.protect(_layout(1, (Measure("count"),), order=((1, True),)), rows, RULES, SECRET)
    assert everything.rows[-1][0] == "c" and sdc.is_suppressed(everything.rows[-1][1])


def test_the_notice_is_the_same_whatever_was_hidden_and_names_the_rules() -> None:
    text = sdc.notice("people", "person", RULES, {"count", "sum"})
    assert "cell-key" in text and "dominance" in text and "fewer than 5 people" in text
    assert sdc.plural("business") == "businesses" and sdc.plural("household") == "households"


@pytest.mark.parametrize("value, expected", [("suppressed (fewer than 5)", True), (sdc.SECONDARY, True),
                                             ("north", False), (5, False), (None, False)])
def test_is_suppressed(value: object, expected: bool) -> None:
    assert sdc.is_suppressed(value) is expected


def test_shown_words() -> None:
    words = "suppressed (one or two businesses make up most of it)"
    assert sdc.shown(Release(rule="dominance"), "business", 5) == words
    assert sdc.shown(Release(rule="threshold"), "person", 10) == "suppressed (fewer than 10)"
    assert sdc.shown(Release(7), "person", 5) == 7
