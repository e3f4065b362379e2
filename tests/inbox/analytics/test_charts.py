"""The SVG charts' geometry: round axes, whole-number ticks for counts, gaps for days
without a figure, and a label for every bar and point."""

from __future__ import annotations

import pytest

from inbox.analytics import charts


@pytest.mark.parametrize(
    ("value", "top"), [(0, 1), (0.7, 1), (1, 1), (3, 5), (12, 20), (50, 50), (51, 100)]
)
def test_an_axis_ends_on_a_round_number(value, top):
    assert charts.nice_max(value) == top


@pytest.mark.parametrize(
    ("highest", "ticks"),
    [
        (1, ["0", "1", "2", "3", "4"]),
        (5, ["0", "2", "4", "6", "8"]),
        (37, ["0", "10", "20", "30", "40"]),
    ],
)
def test_counts_have_whole_numbers_on_every_tick(highest, ticks):
    chart = charts.bar_chart("c", "T", "D", ["a", "b"], [("S", [0, highest])])
    assert [tick.label for tick in chart.ticks] == ticks


def test_a_bar_per_value_and_series_each_named_in_words():
    chart = charts.bar_chart(
        "c", "T", "D", ["Jan 1", "Jan 2"], [("Opened", [2, 4]), ("Resolved", [1, 0])]
    )
    assert [bar.label for bar in chart.bars] == [
        "Jan 1, Opened: 2",
        "Jan 2, Opened: 4",
        "Jan 1, Resolved: 1",
        "Jan 2, Resolved: 0",
    ]
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.y == pytest.approx(chart.bottom - tallest.height)
    assert len({bar.colour for bar in chart.bars}) == 2


def test_a_day_without_a_figure_breaks_the_line():
    chart = charts.line_chart(
        "c", "T", "D", ["1", "2", "3", "4"], [("Median", [1.0, None, 3.0, 4.0])], unit="min"
    )
    assert [len(line.points.split()) for line in chart.lines] == [1, 2]
    assert [marker.label for line in chart.lines for marker in line.markers] == [
        "1, Median: 1.0 min",
        "3, Median: 3.0 min",
        "4, Median: 4.0 min",
    ]


def test_a_line_without_any_figure_draws_nothing():
    chart = charts.line_chart("c", "T", "D", ["1", "2"], [("Rate", [None, None])], unit="%")
    assert [line.points for line in chart.lines] == [""]
    assert chart.lines[0].markers == []
