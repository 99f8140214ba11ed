"""The timeline's eras: milestones grouped by era, then by year, in historical order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from chronicle.projections import MilestoneView


@dataclass(frozen=True, slots=True)
class Era:
    """A named span of years; `last` is None for the era still running."""

    slug: str
    name: str
    first: int
    last: int | None

    @property
    def span(self) -> str:
        return f"{self.first}–{self.last}" if self.last is not None else f"{self.first}–"

    def holds(self, year: int) -> bool:
        return self.first <= year and (self.last is None or year <= self.last)


ERAS: tuple[Era, ...] = (
    Era("early-contacts", "Early contacts", 1862, 1945),
    Era("cold-war", "Cold War & recognition", 1946, 1987),
    Era("democratic-transition", "Democratic transition", 1988, 1999),
    Era("partnership", "Partnership", 2000, 2018),
    Era("strategic-partnership", "Strategic partnership", 2019, None),
)


def era_of(year: int) -> Era:
    """The era a year belongs to; years before the first era count as early contacts."""
    for era in ERAS:
        if era.holds(year):
            return era
    return ERAS[0]


@dataclass(slots=True)
class YearGroup:
    year: int
    milestones: list[MilestoneView] = field(default_factory=list)


@dataclass(slots=True)
class EraGroup:
    """One era on the timeline with its years, each holding its milestones."""

    era: Era
    years: list[YearGroup] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(group.milestones) for group in self.years)


def timeline(views: Iterable[MilestoneView]) -> list[EraGroup]:
    """Eras and years of milestones already in historical order (a range counts by its start)."""
    groups: list[EraGroup] = []
    for view in views:
        year = view.milestone.date.first_day().year
        era = era_of(year)
        if not groups or groups[-1].era != era:
            groups.append(EraGroup(era))
        years = groups[-1].years
        if not years or years[-1].year != year:
            years.append(YearGroup(year))
        years[-1].milestones.append(view)
    return groups
