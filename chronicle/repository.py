"""Milestone streams in the log: load a milestone's state, save the events its commands decided.

This is the only place where domain events become store rows and back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chronicle.domain import (
    MilestoneEvent,
    MilestoneState,
    event_from_stored,
    fold,
    stream_id,
)
from chronicle.store import EventStore, NewEvent, StoredEvent, StreamAppend
from chronicle.upcasters import UPCASTERS  # noqa: F401 - registers them as the store's default

MILESTONE_STREAM_PREFIX = "milestone-"


def to_new_event(event: MilestoneEvent, metadata: Mapping[str, Any]) -> NewEvent:
    return NewEvent(type=event.type, payload=event.to_payload(), metadata=dict(metadata),
                    schema_version=event.schema_version)


def to_domain(stored: StoredEvent) -> MilestoneEvent:
    return event_from_stored(stored.type, stored.payload, schema_version=stored.schema_version)


def is_milestone_event(stored: StoredEvent) -> bool:
    return stored.stream_id.startswith(MILESTONE_STREAM_PREFIX)


@dataclass(frozen=True, slots=True)
class Decision:
    """A command's outcome for one milestone: the state it was decided on and the new events."""

    state: MilestoneState
    events: Sequence[MilestoneEvent]
    metadata: Mapping[str, Any] | None = None  # merged over the save's metadata (source file…)


class MilestoneRepository:
    """Loads milestone states from the log and appends decisions with optimistic concurrency."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def get(self, milestone_id: str) -> MilestoneState:
        return fold(to_domain(e) for e in self.store.read_stream(stream_id(milestone_id)))

    def all_states(self, upto: int | None = None) -> dict[str, MilestoneState]:
        """Every milestone's state, folded from one pass over the log (up to a position)."""
        states: dict[str, MilestoneState] = {}
        for stored in self.store.iter_all(upto=upto):
            if is_milestone_event(stored):
                event = to_domain(stored)
                state = states.get(event.milestone_id) or MilestoneState.initial()
                states[event.milestone_id] = state.apply(event)
        return states

    def save(self, decisions: Iterable[Decision], metadata: Mapping[str, Any]) -> list[int]:
        """Append every decision in one transaction; a stale state raises ConcurrencyError."""
        appends = [
            StreamAppend(stream_id(d.events[0].milestone_id),
                         [to_new_event(e, {**metadata, **(d.metadata or {})}) for e in d.events],
                         d.state.version)
            for d in decisions if d.events
        ]
        if not appends:
            return []
        return [p for positions in self.store.append_streams(appends) for p in positions]
