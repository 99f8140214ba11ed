"""The day made safe: nothing before its day, approved texts only, drafts, edits, holds."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from pathlib import Path

import pytest

from chronicle.posting import events as ev
from chronicle.posting import service as svc
from chronicle.posting.clock import FixedClock
from chronicle.posting.review import ReviewDesk, ReviewError
from chronicle.posting.statuses import post_counts
from chronicle.store import SqlEventStore, open_store
from tests.test_posting_support import (
    RELATIONS,
    outbox_records,
    post_events,
    record_all,
    relations,
    service_for,
    settings_for,
)

DUE = dt.datetime(2027, 1, 27, 1, 0, tzinfo=dt.UTC)  # 09:00 in Ulaanbaatar
KEY = f"{RELATIONS}/2027/outbox"
STREAM = f"post-{RELATIONS}-2027-outbox"


@pytest.fixture
def loaded(store: SqlEventStore) -> SqlEventStore:
    record_all(store, [relations()])
    return store


def types(store: SqlEventStore) -> list[str]:
    return [e.type for e in store.read_stream(STREAM)]


def test_a_future_date_is_refused_and_nothing_is_written(
        loaded: SqlEventStore, tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url)
    service = service_for(loaded, settings, FixedClock(DUE - dt.timedelta(days=417)))
    with pytest.raises(svc.NotYetDue, match=r"in the future.*--dry-run.*chronicle rehearse"):
        service.post_date(dt.date(2027, 1, 27))
    assert post_events(loaded) == [] and outbox_records(settings) == []
    (preview,) = service.post_date(dt.date(2027, 1, 27), dry_run=True)
    assert preview.outcome == svc.WOULD_PUBLISH and post_events(loaded) == []


def test_a_past_date_outside_the_window_needs_late_and_is_recorded_as_late(
        loaded: SqlEventStore, tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url)
    service = service_for(loaded, settings, FixedClock(DUE + dt.timedelta(days=2)))
    with pytest.raises(svc.OutsideWindow, match="--late"):
        service.post_date(dt.date(2027, 1, 27))
    assert post_events(loaded) == []
    (result,) = service.post_date(dt.date(2027, 1, 27), late_by="press-officer")
    assert result.outcome == svc.PUBLISHED
    published = loaded.read_stream(STREAM)[-1]
    assert (published.type, published.payload["late"], published.payload["by"]) == (
        ev.PUBLISHED, True, "press-officer")


def test_with_approval_required_an_unapproved_post_is_held_then_approval_sends_it(
        loaded: SqlEventStore, tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url, require_approval=True)
    clock = FixedClock(DUE + dt.timedelta(seconds=2))
    service = service_for(loaded, settings, clock)
    (held,) = service.post_due()
    assert (held.outcome, held.detail) == (svc.HELD, ev.NOT_APPROVED)
    assert [r.outcome for r in service.post_due()] == [svc.HELD]  # held once, not per pass
    assert types(loaded) == [ev.DRAFTED, ev.HELD] and outbox_records(settings) == []
    assert [r.outcome for r in service.post_date(dt.date(2027, 1, 27))] == [svc.HELD]  # `post`

    clock.advance(dt.timedelta(hours=1))
    desk = ReviewDesk(service)
    draft = loaded.read_stream(STREAM)[0].payload
    result = desk.approve(desk.find(KEY), by="editor")
    assert result is not None and result.outcome == svc.PUBLISHED
    (line,) = outbox_records(settings)
    assert line["text"] == draft["text"]  # exactly the approved bytes
    approval = next(e for e in loaded.read_stream(STREAM) if e.type == ev.APPROVED)
    assert approval.payload["text_hash"] == ev.text_hash(line["text"]) == draft["text_hash"]
    assert approval.payload["by"] == "editor"
    assert [r.outcome for r in service.post_due()] == [svc.ALREADY_PUBLISHED]


def test_an_edit_voids_the_approval_and_the_edited_text_is_what_goes_out(
        loaded: SqlEventStore, tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url, require_approval=True)
    clock = FixedClock(DUE - dt.timedelta(days=3))
    service = service_for(loaded, settings, clock)
    desk = ReviewDesk(service)
    post = desk.find(KEY)
    assert desk.approve(post, by="editor") is None  # not due yet: approved, not sent
    desk.edit(post, "Forty years of friendship. https://chronicle.example.org/x", by="writer")
    (entry,) = [e for e in desk.entries(5, by="editor") if e.post.key == KEY]
    assert entry.state == "draft"
    assert [a["by"] for a in entry.actions] == ["editor", "editor", "writer"]
    service.read_models()  # the posts read model (what /metrics counts) follows the review
    assert post_counts(loaded.engine) == {"draft": 1}
    with pytest.raises(ReviewError, match="takes at most"):
        desk.edit(post, "x" * 100_001, by="writer")

    clock.current = DUE + dt.timedelta(seconds=1)
    assert [r.outcome for r in service.post_due()] == [svc.HELD]
    assert outbox_records(settings) == []
    desk.approve(post, by="editor")
    service.read_models()
    assert post_counts(loaded.engine) == {"published": 1}
    assert [r["text"] for r in outbox_records(settings)] == [
        "Forty years of friendship. https://chronicle.example.org/x"]


def test_a_hold_stops_a_post_even_without_required_approval(
        loaded: SqlEventStore, tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url)
    clock = FixedClock(DUE - dt.timedelta(hours=1))
    service = service_for(loaded, settings, clock)
    desk = ReviewDesk(service)
    desk.hold(desk.find(KEY), "the date is disputed", by="editor")
    clock.current = DUE + dt.timedelta(minutes=1)
    assert [(r.outcome, r.detail) for r in service.post_due()] == [
        (svc.HELD, "the date is disputed")]
    clock.current = DUE + dt.timedelta(hours=7)
    (skipped,) = service.post_due()
    assert skipped.outcome == svc.SKIPPED and "held" in (skipped.detail or "")
    assert outbox_records(settings) == []
    with pytest.raises(ReviewError, match="already skipped"):
        desk.approve(desk.find(KEY), by="editor")


def test_two_replicas_with_approval_on_post_once(
        loaded: SqlEventStore, tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url, require_approval=True)
    early = service_for(loaded, settings, FixedClock(DUE - dt.timedelta(days=1)))
    desk = ReviewDesk(early)
    desk.approve(desk.find(KEY), by="editor")
    clock = FixedClock(DUE + dt.timedelta(seconds=3))
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def replica() -> None:
        own = open_store(db_url)
        try:
            service = service_for(own, settings, clock)
            service.read_models()
            barrier.wait()
            outcomes.extend(r.outcome for r in service.post_due())
        finally:
            own.close()

    threads = [threading.Thread(target=replica) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Counter(outcomes)[svc.PUBLISHED] == 1
    assert types(loaded).count(ev.CLAIMED) == 1
    assert [r["key"] for r in outbox_records(settings)] == [KEY]
