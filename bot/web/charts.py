"""The dashboard's charts as geometry for server-drawn SVG: the interval chart, the
pairwise heatmaps and a score-over-time line.

Drawn on the server rather than by a charting library in the browser: the page needs no
script to show a chart, every mark is an element a test (or a screen reader, through
its title) can find and count, and there is no library to vendor and keep current. The
templates turn these dataclasses into ``<svg>``; every value is escaped there.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ChartPoint",
    "HeatCell",
    "Heatmap",
    "IntervalChart",
    "IntervalMark",
    "LineChart",
    "heatmap",
    "interval_chart",
    "line_chart",
]

LABEL_WIDTH = 190  # room for model names left of a plot
ROW_HEIGHT = 20
PLOT_WIDTH = 520
CELL = 34  # a heatmap cell's side
TOP = 28  # room for an axis above a plot
HEAT_TOP = 120  # room for a heatmap's slanted column labels


@dataclass(frozen=True)
class IntervalMark:
    """One model on the interval chart: its label, the score's x, the interval's ends
    (None for a provisional model: too wide to draw), the online Elo's x, a tooltip."""

    label: str
    y: float
    x: float
    low: float | None
    high: float | None
    elo: float | None
    provisional: bool
    title: str


@dataclass(frozen=True)
class IntervalChart:
    width: int
    height: int
    left: int
    right: int
    marks: list[IntervalMark]
    ticks: list[tuple[float, str]]


def _scale(low: float, high: float, left: float, right: float):
    span = (high - low) or 1.0
    return lambda value: round(left + (value - low) / span * (right - left), 1)


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round values across [low, high]."""
    raw = (high - low) / max(count, 1) or 1.0
    step = 10 ** math.floor(math.log10(raw))
    step *= next((m for m in (1, 2, 5, 10) if m * step >= raw), 10)
    first = math.ceil(low / step) * step
    return [first + k * step for k in range(int((high - first) / step) + 1)]


def interval_chart(
    points: Sequence[tuple[str, float, float | None, float | None, bool, float | None]],
) -> IntervalChart:
    """From (label, score, low, high, provisional, elo), best first."""
    values = [v for p in points for v in (p[1], p[2], p[3], p[5]) if v is not None]
    low, high = (min(values), max(values)) if values else (900.0, 1100.0)
    pad = max((high - low) * 0.05, 5.0)
    low, high = low - pad, high + pad
    right = LABEL_WIDTH + PLOT_WIDTH
    x = _scale(low, high, LABEL_WIDTH, right)
    marks = []
    for n, (label, score, ci_low, ci_high, provisional, elo) in enumerate(points):
        shown = not provisional and ci_low is not None and ci_high is not None
        interval = f" (95% {ci_low:.0f}–{ci_high:.0f})" if shown else " (provisional)"
        marks.append(
            IntervalMark(
                label,
                TOP + n * ROW_HEIGHT + ROW_HEIGHT / 2,
                x(score),
                x(ci_low) if shown else None,
                x(ci_high) if shown else None,
                x(elo) if elo is not None else None,
                provisional,
                f"{label}: {score:.0f}{interval}" + (f", Elo {elo:.0f}" if elo is not None else ""),
            )
        )
    ticks = [(x(t), f"{t:.0f}") for t in _ticks(low, high)]
    height = TOP + len(points) * ROW_HEIGHT + 8
    return IntervalChart(right + 20, height, LABEL_WIDTH, right, marks, ticks)


@dataclass(frozen=True)
class HeatCell:
    x: int
    y: int
    fill: str
    ink: str  # the value's colour: dark on light cells, white on dark ones
    text: str
    title: str
    empty: bool


@dataclass(frozen=True)
class Heatmap:
    width: int
    height: int
    cell: int
    left: int
    top: int
    cells: list[HeatCell]
    rows: list[tuple[int, str]]  # (y of the row's middle, label)
    columns: list[tuple[int, str]]  # (x of the column's middle, label)
    show_text: bool


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> str:
    t = min(max(t, 0.0), 1.0)
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b, strict=True))


def _dark(fill: str) -> bool:
    red, green, blue = (int(fill[k : k + 2], 16) for k in (1, 3, 5))
    return 0.299 * red + 0.587 * green + 0.114 * blue < 140


_RED, _WHITE, _BLUE, _NAVY = (192, 57, 43), (247, 247, 247), (36, 113, 163), (21, 67, 96)


def heatmap(
    models: Sequence[str], values: Sequence[Sequence[float | int | None]], kind: str
) -> Heatmap:
    """A cell per (row, column) of ``values``: ``kind`` "fraction" (the row's share of
    wins, red below half, blue above) or "count" (battles, darker for more)."""
    n = len(models)
    top = HEAT_TOP  # column labels are drawn slanted above the cells
    most = max((v for row in values for v in row if v), default=1) or 1
    cells = []
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            pair = f"{models[i]} vs {models[j]}"
            if value is None or i == j:
                fill, text, title = "#e5e5e5", "", f"{pair}: no battles"
            elif kind == "fraction":
                toward, share = (_BLUE, value - 0.5) if value >= 0.5 else (_RED, 0.5 - value)
                fill, text = _mix(_WHITE, toward, share * 2), f"{value:.2f}"
                title = f"{models[i]} beat {models[j]} in {value:.0%} of their battles"
            else:
                fill, text = _mix(_WHITE, _NAVY, math.sqrt(value / most)), f"{int(value)}"
                title = f"{pair}: {int(value)} battles"
            x, y = LABEL_WIDTH + j * CELL, top + i * CELL
            ink = "#ffffff" if _dark(fill) else "#1d2125"
            cells.append(HeatCell(x, y, fill, ink, text, title, value is None or i == j))
    rows = [(top + i * CELL + CELL // 2, m) for i, m in enumerate(models)]
    columns = [(LABEL_WIDTH + j * CELL + CELL // 2, m) for j, m in enumerate(models)]
    size = LABEL_WIDTH + n * CELL + 10
    return Heatmap(size, top + n * CELL + 10, CELL, LABEL_WIDTH, top, cells, rows, columns, n <= 20)


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    points: list[ChartPoint]
    path: str
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]


def line_chart(times: Sequence[float], values: Sequence[float | None]) -> LineChart:
    """A line through the (time, value) points that have a value."""
    left, right, top, bottom = 60, 60 + PLOT_WIDTH, 16, 200
    known = [(t, v) for t, v in zip(times, values, strict=True) if v is not None]
    low = min((v for _, v in known), default=1000.0)
    high = max((v for _, v in known), default=1000.0)
    pad = max((high - low) * 0.1, 10.0)
    y = _scale(low - pad, high + pad, bottom, top)  # higher scores higher up
    first, last = (times[0], times[-1]) if times else (0.0, 1.0)
    x = _scale(first, last, left, right)
    points = [ChartPoint(x(t), y(v), f"{_when(t)}: {v:.0f}") for t, v in known]
    path = " ".join(f"{p.x},{p.y}" for p in points)
    y_ticks = [(y(t), f"{t:.0f}") for t in _ticks(low - pad, high + pad, 4)]
    x_ticks = [(x(t), _when(t)) for t in (first, last)] if times else []
    return LineChart(
        right + 30, bottom + 30, left, right, top, bottom, points, path, y_ticks, x_ticks
    )


def _when(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(timestamp))
