"""Server-rendered SVG charts: the geometry is computed here, the template draws it
(``inbox/analytics/chart.html``). No script and no style attribute (the CSP allows
neither): SVG presentation attributes only. Colours are USWDS's, each at least 3:1 on
white (WCAG 1.4.11), and never the only signal: series also differ by marker shape and
dash, the legend names them in text, and every chart has its numbers in a table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 40
MAX_LABELS = 7
# USWDS blue-60v, orange-50v, green-cool-50v.
COLOURS = ("#005ea2", "#c05600", "#2e8367")
DASHES = ("", "6 4", "2 3")


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str


@dataclass
class Marker:
    x: float
    y: float
    label: str

    @property
    def corner_x(self) -> float:  # of a square marker
        return round(self.x - 3.5, 2)

    @property
    def corner_y(self) -> float:
        return round(self.y - 3.5, 2)


@dataclass
class Line:
    colour: str
    dash: str
    marker: str
    points: str  # "x,y x,y …" of one unbroken stretch
    markers: list[Marker]


@dataclass
class Series:
    name: str
    colour: str
    dash: str
    marker: str  # "circle" or "square"


@dataclass
class Tick:
    y: float
    label: str


@dataclass
class XLabel:
    x: float
    label: str


@dataclass
class Chart:
    id: str
    title: str
    desc: str
    kind: str  # "bar" or "line"
    series: list[Series]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: float = WIDTH - RIGHT
    bottom: float = HEIGHT - BOTTOM
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    x_labels: list[XLabel] = field(default_factory=list)


def nice_max(value: float) -> float:
    """The axis' top: 1, 2 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _frame(
    chart_id: str,
    title: str,
    desc: str,
    kind: str,
    labels: Sequence[str],
    names: Sequence[str],
    top: float,
    unit: str,
) -> Chart:
    chart = Chart(
        id=chart_id,
        title=title,
        desc=desc,
        kind=kind,
        series=[
            Series(name, COLOURS[i % 3], DASHES[i % 3], "circle" if i % 2 == 0 else "square")
            for i, name in enumerate(names)
        ],
    )
    plot_height = chart.bottom - TOP
    for n in range(5):
        value = top * n / 4
        chart.ticks.append(Tick(chart.bottom - plot_height * n / 4, _format(value, unit)))
    step = max(1, math.ceil(len(labels) / MAX_LABELS))
    slot = (chart.right - chart.left) / max(1, len(labels))
    for i in range(0, len(labels), step):
        chart.x_labels.append(XLabel(chart.left + slot * (i + 0.5), labels[i]))
    return chart


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    unit: str = "",
) -> Chart:
    """Grouped bars: one group per label, one bar per series."""
    highest = max((v for _, values in series for v in values), default=0)
    # Counts: four ticks of a round whole number each (4, 8, 20, 40, 80, 200…).
    top = 4 * nice_max(max(highest, 1) / 4) if not unit else nice_max(highest)
    if not unit and top < 4:
        top = 4
    chart = _frame(chart_id, title, desc, "bar", labels, [n for n, _ in series], top, unit)
    slot = (chart.right - chart.left) / max(1, len(labels))
    width = slot * 0.8 / max(1, len(series))
    plot_height = chart.bottom - TOP
    for s, (name, values) in enumerate(series):
        colour = chart.series[s].colour
        for i, value in enumerate(values):
            height = plot_height * value / top
            chart.bars.append(
                Bar(
                    x=round(chart.left + slot * (i + 0.1) + width * s, 2),
                    y=round(chart.bottom - height, 2),
                    width=round(max(width - 0.5, 0.5), 2),
                    height=round(height, 2),
                    colour=colour,
                    label=f"{labels[i]}, {name}: {_format(value, unit)}",
                )
            )
    return chart


def line_chart(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    unit: str = "",
) -> Chart:
    """Lines with a marker per value; a day without a value breaks the line."""
    values_seen = [v for _, values in series for v in values if v is not None]
    top = nice_max(max(values_seen, default=0))
    chart = _frame(chart_id, title, desc, "line", labels, [n for n, _ in series], top, unit)
    slot = (chart.right - chart.left) / max(1, len(labels))
    plot_height = chart.bottom - TOP
    for s, (name, values) in enumerate(series):
        style = chart.series[s]
        stretch: list[str] = []
        markers: list[Marker] = []
        lines: list[Line] = []
        for i, value in enumerate(values):
            if value is None:
                if stretch:
                    lines.append(
                        Line(style.colour, style.dash, style.marker, " ".join(stretch), [])
                    )
                stretch = []
                continue
            x = round(chart.left + slot * (i + 0.5), 2)
            y = round(chart.bottom - plot_height * value / top, 2)
            stretch.append(f"{x},{y}")
            markers.append(Marker(x, y, f"{labels[i]}, {name}: {_format(value, unit)}"))
        if stretch:
            lines.append(Line(style.colour, style.dash, style.marker, " ".join(stretch), []))
        if lines:
            lines[0].markers = markers
        else:
            lines.append(Line(style.colour, style.dash, style.marker, "", markers))
        chart.lines.extend(lines)
    return chart


def _format(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.0f} %"
    if unit == "min":
        return f"{value:.1f} min" if value < 10 else f"{value:.0f} min"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
