"""The replay path of a rebuild: the store's read for projections and the trusted decoding.

A rebuild skips metadata, shape checks and re-encoding; each shortcut must give exactly what
the checked path gives, or the read models would differ from one rebuild to the next.
"""

from __future__ import annotations

import json

import pytest

from chronicle.dates import HistoricalDate, InvalidDate, date_from_json_cached
from chronicle.domain import (
    Milestone,
    MilestoneRetracted,
    milestone_from_log,
    recorded_from_log,
    retract,
    revise,
)
from chronicle.projections.milestone_rows import PAYLOAD
from chronicle.projections.milestones import (
    _Batch,
    _CanonicalRecord,
    _decode,
    _Revision,
    canonical_date,
    payload_text,
)
from chronicle.repository import Decision, MilestoneRepository, to_domain
from chronicle.store import NewEvent, SqlEventStore
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


@pytest.mark.parametrize("text", DATES)
def test_canonical_date_accepts_exactly_the_payloads_to_payload_gives_back(text: str) -> None:
    payload = json.loads(canonical_json(make_milestone(5, date=text).to_payload()))
    assert canonical_date(payload) == HistoricalDate.from_json(payload["date"])
    others = [
        {k: v for k, v in payload.items() if k != "notes"},
        payload | {"extra": 1},
        payload | {"tags": tuple(payload["tags"])},
        payload | {"sources": [s | {"page": 3} for s in payload["sources"]]},
        payload | {"sources": [{k: v for k, v in s.items() if k != "url"}
                               for s in payload["sources"]]},
        payload | {"date": {k: v for k, v in payload["date"].items() if k != "end"}},
    ]
    for other in others:
        assert canonical_date(other) is None
        assert milestone_from_log(other).to_payload() != other
    for broken in ({"date": "1987", "precision": "day"},
                   payload["date"] | {"circa": int(payload["date"]["circa"])}):
        assert canonical_date(payload | {"date": broken}) is None
        with pytest.raises(ValueError, match="date"):
            milestone_from_log(payload | {"date": broken})


def _rows(store: SqlEventStore, trusted: bool) -> tuple[dict, dict]:
    decode = _decode if trusted else to_domain
    with store.engine.connect() as conn:
        batch = _Batch(conn)
        for stored in store.read_for_replay(limit=100):
            batch.apply(stored, decode(stored))
        return batch.rows, batch.history


def test_trusted_replay_rows_equal_the_decoded_events_rows(store: SqlEventStore) -> None:
    _recorded_and_revised(store)
    repo = MilestoneRepository(store)
    state = repo.get("milestone-5")
    changed = make_milestone(5, title="Once more", date="1921-07", tags=("trade", "aid"))
    repo.save([Decision(state, revise(state, changed, "again"))], {"by": "tests"})
    kinds = {type(_decode(e)) for e in store.read_for_replay(limit=100)}
    assert kinds == {_CanonicalRecord, _Revision, MilestoneRetracted}
    assert _rows(store, trusted=True) == _rows(store, trusted=False)


def test_a_revision_to_a_non_canonical_payload_stores_the_canonical_one(
        store: SqlEventStore) -> None:
    record_milestones(store, [make_milestone(1)])
    change = {"milestone_id": "milestone-1", "reason": "short date",
              "changes": {"date": {"date": "1921-07-11"}}}
    store.append("milestone-milestone-1", [NewEvent(type="MilestoneRevised", payload=change,
                                                    schema_version=2)], 1)
    rows, _ = _rows(store, trusted=True)
    expected = make_milestone(1, date="1921-07-11")
    assert rows["milestone-1"][PAYLOAD] == canonical_json(expected.to_payload())
    assert rows == _rows(store, trusted=False)[0]
