"""What a benchmark produces: samples of repeated runs, and rows comparing ours with a peer.

Absolute figures on a shared two-core machine are noise; the ratio of two figures measured
side by side in one run is what a target is set on.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Say = Callable[[str], None]


@dataclass(slots=True)
class Sample:
    """Repeated measurements of one figure (the median is what compares)."""

    runs: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def min(self) -> float:
        return min(self.runs)

    @property
    def max(self) -> float:
        return max(self.runs)

    def to_json(self) -> dict[str, Any]:
        return {"median": self.median, "min": self.min, "max": self.max, "runs": self.runs}


@dataclass(frozen=True, slots=True)
class Target:
    """A bound on the ratio: at least (`>=`) or at most (`<=`) `value`."""

    op: str
    value: float

    def met(self, ratio: float) -> bool:
        return ratio >= self.value if self.op == ">=" else ratio <= self.value

    def __str__(self) -> str:
        return f"{'≥' if self.op == '>=' else '≤'} {self.value:g}×"


@dataclass(slots=True)
class Row:
    """One line of the report: our figure, the peer's from the same run, their ratio."""

    name: str                      # stable key, e.g. "appends.sqlite.batch"
    group: str                     # what --only selects, e.g. "appends-sqlite"
    figure: str                    # what is measured, for people
    unit: str
    peer_name: str
    ours: Sample | None = None
    peer: Sample | None = None
    target: Target | None = None
    higher_is_better: bool = True
    note: str = ""
    skipped: str | None = None     # why nothing was measured

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.peer is None or self.peer.median == 0:
            return None
        return self.ours.median / self.peer.median

    @property
    def met(self) -> bool | None:
        ratio = self.ratio
        if self.target is None or ratio is None:
            return None
        return self.target.met(ratio)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "group": self.group, "figure": self.figure, "unit": self.unit,
            "peer_name": self.peer_name,
            "ours": self.ours.to_json() if self.ours else None,
            "peer": self.peer.to_json() if self.peer else None,
            "ratio": self.ratio, "target": str(self.target) if self.target else None,
            "target_op": self.target.op if self.target else None,
            "target_value": self.target.value if self.target else None,
            "met": self.met, "note": self.note, "skipped": self.skipped,
        }


def skipped_rows(rows: list[Row], reason: str) -> list[Row]:
    """The same rows, marked as not measured and why."""
    for row in rows:
        row.skipped = reason
    return rows
