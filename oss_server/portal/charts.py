"""Geometry of the server-rendered SVG bar charts (no script, nothing inline to allow)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

WIDTH, HEIGHT = 640, 200
LEFT, BOTTOM, TOP = 36, 22, 8


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass
class Chart:
    """A stacked bar chart: one column per day, one coloured segment per series."""

    title: str
    days: list[date]
    series: list[tuple[str, str, dict[date, int]]]  # (name, css class, counts by day)
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, int]] = field(default_factory=list)
    labels: list[tuple[float, str]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT

    def total(self, day: date) -> int:
        return sum(counts.get(day, 0) for _, _, counts in self.series)


def _nice_max(value: int) -> int:
    """Round the axis top up to 4 × 1, 2 or 5 × 10ⁿ so the four ticks are round numbers."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if value <= 4 * step * scale:
                return 4 * step * scale
        scale *= 10


def stacked_chart(title: str, days: list[date],
                  series: list[tuple[str, str, dict[date, int]]]) -> Chart:
    """Lay out the bars, the y-axis ticks and a date label every week."""
    chart = Chart(title=title, days=days, series=series)
    top = _nice_max(max((chart.total(d) for d in days), default=0) or 1)
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(days), 1)
    for index, day in enumerate(days):
        x, base = LEFT + index * slot + slot * 0.15, float(HEIGHT - BOTTOM)
        for name, css, counts in series:
            count = counts.get(day, 0)
            if count:
                h = plot_h * count / top
                base -= h
                chart.bars.append(Bar(round(x, 1), round(base, 1), round(slot * 0.7, 1),
                                      round(h, 1), css, f"{day:%b %-d}: {count} {name}"))
        if (len(days) - 1 - index) % 7 == 0:
            chart.labels.append((round(x + slot * 0.35, 1), f"{day:%b %-d}"))
    for step in range(5):
        value = top * step // 4
        chart.ticks.append((round(HEIGHT - BOTTOM - plot_h * step / 4, 1), value))
    return chart
