"""Test data built through the real domain commands and repository (no fakes)."""

from __future__ import annotations

import random

from chronicle.dates import HistoricalDate
from chronicle.domain import Milestone, Source, record, retract, revise
from chronicle.repository import Decision, MilestoneRepository
from chronicle.store import EventStore

TAGS = ("diplomacy", "visits", "defense", "trade", "education", "culture")


def make_milestone(n: int, *, title: str | None = None, date: str | None = None,
                   tags: tuple[str, ...] | None = None) -> Milestone:
    rng = random.Random(n)
    year = 1862 + n % 160
    if date is None:
        precision = n % 3
        date = (f"{year}-{1 + n % 12:02d}-{1 + n % 28:02d}", f"{year}-{1 + n % 12:02d}",
                str(year))[precision]
    return Milestone(
        id=f"milestone-{n}",
        title=title or f"Milestone number {n}: Улаанбаатар & <Washington>",
        date=HistoricalDate.parse(date),
        summary=f"Summary {n} with “quotes” and ᠮᠣᠩᠭᠣᠯ script.",
        tags=tags if tags is not None else tuple(sorted(rng.sample(TAGS, 1 + n % 3))),
        people=(f"Person {n}",),
        places=("Ulaanbaatar",),
        sources=(Source(title="Test source", file="000_389149d6423ab54b.txt",
                        quote=f"Quoted passage {n}."),),
    )


def record_milestones(store: EventStore, milestones: list[Milestone]) -> list[int]:
    repo = MilestoneRepository(store)
    return repo.save([Decision(repo.get(m.id), record(repo.get(m.id), m)) for m in milestones],
                     {"by": "tests"})


def generate_log(store: EventStore, count: int, *, seed: int = 7) -> None:
    """Record `count` milestones, then revise about a third and retract about a tenth."""
    rng = random.Random(seed)
    record_milestones(store, [make_milestone(n) for n in range(count)])
    repo = MilestoneRepository(store)
    decisions = []
    for n in range(count):
        state = repo.get(f"milestone-{n}")
        roll = rng.random()
        if roll < 0.1:
            decisions.append(Decision(state, retract(state, f"test retraction {n}")))
        elif roll < 0.4:
            changed = make_milestone(n, title=f"Revised title {n}", tags=("diplomacy",))
            decisions.append(Decision(state, revise(state, changed, f"test revision {n}")))
    repo.save(decisions, {"by": "tests"})
