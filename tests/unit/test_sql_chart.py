"""The workbench's automatic chart choice."""

from assistant.sql.chart import ChartSpec, pick_chart


def test_time_axis_gives_a_line() -> None:
    rows = [["2024-01", 3], ["2024-02", 5], ["2024-03", 4]]
    assert pick_chart(["month", "complaints"], rows) == ChartSpec("line", "month", "complaints")
    assert pick_chart(["year", "gdp"], [[2000, 1.5], [2001, 1.7]]) == ChartSpec("line", "year", "gdp")


def test_categories_give_bars_and_two_measures_a_scatter() -> None:
    assert pick_chart(["borough", "n"], [["BRONX", 3], ["QUEENS", 5]]) == ChartSpec("bar", "borough", "n")
    assert pick_chart(["temp", "pm2_5"], [[1.5, 80], [3.0, 60.5]]) == ChartSpec("scatter", "temp", "pm2_5")


def test_nothing_to_draw() -> None:
    assert pick_chart(["n"], [[1], [2]]) is None
    assert pick_chart(["name", "city"], [["a", "b"], ["c", "d"]]) is None
    assert pick_chart(["borough", "n"], [["BRONX", 3]]) is None
