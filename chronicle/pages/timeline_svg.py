"""The home page's picture of the whole chronicle: an SVG timeline, laid out here, drawn by a
template (`_timeline_svg.html`), so it needs no script and every mark is a plain link.

Years run left to right; eras are bands behind them, each as wide as its share of the
milestones (a quiet century takes less room than a busy decade), years evenly spread within
an era; each milestone is a mark at its first day (as the historical order counts it), lifted
to the next free row when it would overlap a neighbour.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from chronicle.pages.eras import ERAS, Era
from chronicle.projections import MilestoneView

WIDTH = 1000
MARGIN = 12
AXIS_Y = 30          # the year axis: labels above it, marks below
ROW = 13             # vertical distance between rows of marks
RADIUS = 5
MAX_ROWS = 9         # a denser year overlaps rather than growing the picture further
ERA_WEIGHT = 3       # every era's band gets at least this many milestones' width


@dataclass(frozen=True, slots=True)
class Mark:
    view: MilestoneView
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Band:
    era: Era
    index: int
    x: float
    width: float


@dataclass(frozen=True, slots=True)
class Tick:
    year: int
    x: float


@dataclass(frozen=True, slots=True)
class TimelinePicture:
    width: int
    height: int
    radius: int
    axis_y: int
    bands: tuple[Band, ...]
    ticks: tuple[Tick, ...]
    marks: tuple[Mark, ...]
    first_year: int
    last_year: int


def _when(view: MilestoneView) -> float:
    """A milestone's place in years: its first day, as the historical order counts it."""
    first = view.milestone.date.first_day()
    return first.year + (first - dt.date(first.year, 1, 1)).days / 366


def _segments(views: Sequence[MilestoneView], first: int, last: int
              ) -> list[tuple[int, int, float, float]]:
    """(first year, end year, left x, width) of each era present, widths by their counts."""
    spans = [(max(era.first, first), min((era.last or last) + 1, last), era) for era in ERAS]
    spans = [(start, end, era) for start, end, era in spans if start < end]
    counts = {era: 0 for _, _, era in spans}
    for view in views:
        year = view.milestone.date.first_day().year
        era = next((e for s, end, e in spans if s <= year < end), spans[-1][2])
        counts[era] += 1
    total = sum(counts[era] + ERA_WEIGHT for _, _, era in spans)
    segments: list[tuple[int, int, float, float]] = []
    left = float(MARGIN)
    for start, end, era in spans:
        width = (WIDTH - 2 * MARGIN) * (counts[era] + ERA_WEIGHT) / total
        segments.append((start, end, left, width))
        left += width
    return segments


def picture(views: Sequence[MilestoneView]) -> TimelinePicture | None:
    """The layout of `views` (historical order); None for an empty chronicle."""
    if not views:
        return None
    first = min(v.milestone.date.first_day().year for v in views)
    last = max(v.milestone.date.first_day().year for v in views) + 1
    segments = _segments(views, first, last)

    def x_of(year: float) -> float:
        year = min(max(year, first), last)
        for start, end, left, width in segments:
            if year <= end:
                return round(left + (year - start) / max(end - start, 1) * width, 1)
        return float(WIDTH - MARGIN)

    rows: list[float] = []           # the right edge of each row's last mark
    marks: list[Mark] = []
    for view in views:
        x = x_of(_when(view))
        row = next((i for i, edge in enumerate(rows) if x - edge >= 2 * RADIUS + 1), None)
        if row is None:
            row = len(rows) if len(rows) < MAX_ROWS else len(marks) % MAX_ROWS
            if row == len(rows):
                rows.append(x)
        rows[row] = x
        marks.append(Mark(view, x, AXIS_Y + ROW * (row + 1)))
    bands: list[Band] = []
    for index, era in enumerate(ERAS):
        start, end = max(era.first, first), min((era.last or last) + 1, last)
        if start < end:
            bands.append(Band(era, index, x_of(start), round(x_of(end) - x_of(start), 1)))
    ticks = [Tick(start, x_of(start)) for start, _, _, _ in segments]
    height = AXIS_Y + ROW * (len(rows) + 1)
    return TimelinePicture(WIDTH, height, RADIUS, AXIS_Y, tuple(bands), tuple(ticks),
                           tuple(marks), first, last - 1)
