"""The events every contender writes: real milestone events of about 500 bytes with metadata.

Built from the domain's own event classes, so the same bytes go through our store,
eventsourcing's recorder and the raw driver, and the projections can read them back. Payloads
are assembled from templates rather than through `Milestone` objects: a million of them must
take seconds, not minutes.
"""

from __future__ import annotations

import itertools
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from chronicle.domain import MilestoneRecorded, MilestoneRetracted, MilestoneRevised
from chronicle.store import NewEvent
from chronicle.store.hashing import canonical_json

TAGS = ("aid", "culture", "defense", "diplomacy", "education", "health", "trade", "visits")
TAG_SETS = [list(c) for size in (1, 2, 3) for c in itertools.combinations(TAGS, size)]
RUN_ID = "0190d7c2-6f1e-7a3b-9c41-5d2e8f7a6b10"
PRECISIONS = ("day", "month", "year")


class EventIds:
    """Time-ordered ids in the UUIDv7 layout, cheaper than `uuid7()` for millions of events."""

    def __init__(self) -> None:
        self._base = (int(time.time() * 1000) << 80) | (0x7 << 76) | (0b10 << 62)
        self._counter = itertools.count(random.getrandbits(20) << 20)

    def __call__(self) -> uuid.UUID:
        n = next(self._counter)
        return uuid.UUID(int=self._base | ((n >> 40) << 64) | (n & 0xFFFFFFFFFF))


@dataclass(frozen=True, slots=True)
class BenchEvent:
    """One event for every contender: the store's NewEvent plus where it goes."""

    stream_id: str
    stream_version: int
    event: NewEvent

    def payload_json(self) -> str:
        return canonical_json(self.event.payload)

    def metadata_json(self) -> str:
        return canonical_json(self.event.metadata)


@dataclass(frozen=True, slots=True)
class Encoded:
    """A BenchEvent with its JSON texts computed once, before any contender's clock starts."""

    source: BenchEvent
    payload_json: str
    metadata_json: str

    @property
    def state(self) -> bytes:
        """What eventsourcing stores: payload and metadata together, as bytes."""
        return f'{{"metadata":{self.metadata_json},"payload":{self.payload_json}}}'.encode()


def encode(events: list[BenchEvent]) -> list[Encoded]:
    return [Encoded(e, e.payload_json(), e.metadata_json()) for e in events]


def date_json(n: int) -> dict[str, Any]:
    year, month, day = 1862 + n % 160, 1 + n % 12, 1 + n % 28
    precision = PRECISIONS[n % 3]
    text = {"day": f"{year}-{month:02d}-{day:02d}", "month": f"{year}-{month:02d}",
            "year": str(year)}[precision]
    return {"date": text, "end": None, "precision": precision, "circa": False}


def milestone_payload(n: int) -> dict[str, Any]:
    """A valid milestone's payload (what `Milestone.to_payload` makes), about 440 bytes."""
    return {
        "id": f"bench-{n}",
        "title": f"Milestone {n}: a delegation from Ulaanbaatar visits Washington",
        "date": date_json(n),
        "date_caveat": None,
        "summary": f"Summary {n}: both governments signed a memorandum on education.",
        "tags": TAG_SETS[n % len(TAG_SETS)],
        "people": [f"Envoy {n}"],
        "places": ["Ulaanbaatar", "Washington"],
        "sources": [{"title": "Bench source", "quote": f"Quoted passage {n}.", "url": None,
                     "file": "000_389149d6423ab54b.txt"}],
        "notes": None,
        "anniversary_of": None,
        "anniversary": None,
        "anniversary_posts": True,
    }


def metadata(n: int) -> dict[str, Any]:
    return {"by": "bench", "loader_run": RUN_ID, "source_file": f"events/bench-{n % 50:02d}.yaml"}


class EventFactory:
    """Makes the bench's milestone events, each with a fresh time-ordered id."""

    def __init__(self) -> None:
        self.ids = EventIds()

    def _event(self, n: int, version: int, type_: str, schema_version: int,
               payload: dict[str, Any]) -> BenchEvent:
        event = NewEvent(type=type_, payload=payload, metadata=metadata(n),
                         schema_version=schema_version, event_id=self.ids())
        return BenchEvent(f"milestone-bench-{n}", version, event)

    def recorded(self, n: int) -> BenchEvent:
        return self._event(n, 1, MilestoneRecorded.type, MilestoneRecorded.schema_version,
                           milestone_payload(n))

    def revised(self, n: int, version: int) -> BenchEvent:
        payload = {"milestone_id": f"bench-{n}", "reason": f"a better source for {n}",
                   "changes": {"title": f"Revised title {n}.{version}", "tags": ["diplomacy"]}}
        return self._event(n, version, MilestoneRevised.type, MilestoneRevised.schema_version,
                           payload)

    def retracted(self, n: int, version: int) -> BenchEvent:
        payload = {"milestone_id": f"bench-{n}", "reason": f"a duplicate of {n + 1}"}
        return self._event(n, version, MilestoneRetracted.type, 1, payload)

    def streams(self, count: int, per_stream: int, first_stream: int = 0) -> list[BenchEvent]:
        """`count` events, `per_stream` to a stream: a record, then revisions."""
        events = []
        for i in range(count):
            n, offset = divmod(i, per_stream)
            n += first_stream
            events.append(self.recorded(n) if offset == 0 else self.revised(n, offset + 1))
        return events

    def history(self, count: int, *, first_stream: int = 0, seed: int = 7
                ) -> Iterator[BenchEvent]:
        """A chronicle's log: ~77% records, ~20% revisions, ~3% retractions, in editing order."""
        rng = random.Random(seed)
        versions: dict[int, int] = {}
        live: list[int] = []
        for _ in range(count):
            roll = rng.random()
            if live and roll < 0.2:
                n = live[rng.randrange(len(live))]
                versions[n] += 1
                yield self.revised(n, versions[n])
            elif live and roll < 0.23:
                n = live.pop(rng.randrange(len(live)))
                versions[n] += 1
                yield self.retracted(n, versions[n])
            else:
                n = first_stream + len(versions)
                versions[n] = 1
                live.append(n)
                yield self.recorded(n)
