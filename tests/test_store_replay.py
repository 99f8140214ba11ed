"""The replay path of a rebuild: the store's read for projections and the trusted decoding.

A rebuild skips metadata, shape checks and re-encoding; each shortcut must give exactly what
the checked path gives, or the read models would differ from one rebuild to the next.
"""

from __future__ import annotations

import json

import pytest

from chronicle.dates import HistoricalDate, InvalidDate, date_from_json_cached
from chronicle.domain import Milestone, milestone_from_log, recorded_from_log, retract, revise
from chronicle.projections.milestones import payload_text
from chronicle.repository import Decision, MilestoneRepository
from chronicle.store import SqlEventStore
from chronicle.store.hashing import canonical_json
from tests.factories import make_milestone, record_milestones

DATES = ["1987-01-27", "1988-04", "1862", "c. 1911-12-29", "2019-07-30/2019-08-02",
         "1990/1995", "circa 2003-08/2004"]


def _recorded_and_revised(store: SqlEventStore) -> None:
    record_milestones(store, [make_milestone(n, date=DATES[n % len(DATES)]) for n in range(14)])
    repo = MilestoneRepository(store)
    state = repo.get("milestone-3")
    changed = make_milestone(3, title="Revised title", date="1921-07-11", tags=("trade",))
    repo.save([Decision(state, revise(state, changed, "better"))], {"by": "tests"})
    state = repo.get("milestone-4")
    repo.save([Decision(state, retract(state, "duplicate"))], {"by": "tests"})


def test_read_for_replay_is_read_all_without_metadata(store: SqlEventStore) -> None:
    _recorded_and_revised(store)
    full = store.read_all(limit=100)
    replayed = store.read_for_replay(limit=100)
    assert len(replayed) == len(full) == 16
    for mine, theirs in zip(replayed, full, strict=True):
        assert mine.metadata == {} and theirs.metadata == {"by": "tests"}
        assert (mine.position, mine.event_id, mine.type, mine.payload, mine.recorded_at,
                mine.hash, mine.prev_hash, mine.schema_version) == (
            theirs.position, theirs.event_id, theirs.type, theirs.payload, theirs.recorded_at,
            theirs.hash, theirs.prev_hash, theirs.schema_version)
        assert mine.payload_json == canonical_json(theirs.payload)
    assert [e.position for e in store.read_for_replay(after=10, limit=3)] == [11, 12, 13]


def test_stored_payload_text_is_the_read_models_payload(store: SqlEventStore) -> None:
    _recorded_and_revised(store)
    recorded = [e for e in store.read_for_replay(limit=100) if e.type == "MilestoneRecorded"]
    assert len(recorded) == 14
    for stored in recorded:
        milestone = Milestone.from_payload(stored.payload)
        assert stored.payload_json == canonical_json(milestone.to_payload())
        assert payload_text(milestone, stored) is stored.payload_json


def test_payload_text_encodes_when_the_payload_differs(store: SqlEventStore) -> None:
    record_milestones(store, [make_milestone(1)])
    stored = store.read_for_replay()[0]
    other = make_milestone(1, title="Another title")
    assert payload_text(other, stored) == canonical_json(other.to_payload())
    assert payload_text(other, stored) != stored.payload_json


@pytest.mark.parametrize("text", DATES)
def test_trusted_decoding_equals_checked_decoding(text: str) -> None:
    milestone = make_milestone(5, date=text)
    payload = json.loads(canonical_json(milestone.to_payload()))
    assert milestone_from_log(payload) == Milestone.from_payload(payload) == milestone
    assert recorded_from_log(payload).milestone == milestone
    assert date_from_json_cached(payload["date"]) == HistoricalDate.from_json(payload["date"])


def test_trusted_decoding_falls_back_to_the_checks() -> None:
    with pytest.raises(InvalidDate, match="circa"):
        date_from_json_cached({"date": "1987", "circa": 1})
    with pytest.raises(InvalidDate, match="precision"):
        date_from_json_cached({"date": "1987", "precision": "day"})
    with pytest.raises(ValueError, match="lacks"):
        milestone_from_log({"id": "milestone-1", "date": {"date": "1987"}})
