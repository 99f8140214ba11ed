"""Exactly once: racing workers, crashes between claim and outcome, grace windows, retries.

Every test runs on SQLite and PostgreSQL (the `db_url` fixture) against the real log.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from chronicle.posting import events as ev
from chronicle.posting import service as svc
from chronicle.posting.anniversaries import Planner
from chronicle.posting.clock import FixedClock
from chronicle.posting.events import Worker
from chronicle.projections import ReadModels
from chronicle.store import SqlEventStore, open_store
from tests.test_posting_support import (
    FORTIETH,
    RELATIONS,
    crash_worker,
    milestone,
    outbox_records,
    post_events,
    race_worker,
    record_all,
    relations,
    retract_one,
    service_for,
    settings_for,
)

DUE = dt.datetime(2027, 1, 27, 1, 0, tzinfo=dt.UTC)  # 09:00 in Ulaanbaatar
# Forked children start at once with the parent's imports (inflect alone takes seconds);
# each opens its own store, so no connection is shared across processes.
FORK = multiprocessing.get_context("fork")


@pytest.fixture
def store(db_url: str) -> Iterator[SqlEventStore]:
    opened = open_store(db_url)
    record_all(opened, [relations(), milestone("second-27", "2017-01-27", title="Second")])
    yield opened
    opened.close()


def claims_per_stream(store: SqlEventStore) -> Counter[str]:
    return Counter(e.stream_id for e in post_events(store, ev.CLAIMED))


def test_before_the_posting_time_only_drafts_are_recorded(store: SqlEventStore, tmp_path: Path,
                                                         db_url: str) -> None:
    settings = settings_for(tmp_path, db_url)
    clock = FixedClock(DUE - dt.timedelta(seconds=1))
    assert service_for(store, settings, clock).post_due() == []
    assert {e.type for e in post_events(store)} == {ev.DRAFTED}
    assert outbox_records(settings) == []


def test_racing_threads_post_once(store: SqlEventStore, tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url)
    clock = FixedClock(DUE + dt.timedelta(seconds=3))
    service_for(store, settings, clock).read_models()  # tables ready before the race
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def race() -> None:
        own = open_store(db_url)
        try:
            service = service_for(own, settings, clock)
            barrier.wait()
            outcomes.extend(r.outcome for r in service.post_due())
        finally:
            own.close()

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert claims_per_stream(store) == {f"post-{RELATIONS}-2027-outbox": 1,
                                        "post-second-27-2027-outbox": 1}
    assert Counter(outcomes)[svc.PUBLISHED] == 2
    records = outbox_records(settings)
    assert sorted(r["key"] for r in records) == [f"{RELATIONS}/2027/outbox",
                                                 "second-27/2027/outbox"]
    assert len(post_events(store, ev.PUBLISHED)) == 2


def test_racing_processes_post_once(store: SqlEventStore, tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url)
    now = (DUE + dt.timedelta(seconds=3)).isoformat()
    service_for(store, settings, FixedClock(DUE)).plans(DUE.date())  # warm imports to inherit
    barrier, queue = FORK.Barrier(3), FORK.Queue()
    racers = [FORK.Process(target=race_worker, args=(db_url, str(tmp_path), now, barrier, queue))
              for _ in range(3)]
    for racer in racers:
        racer.start()
    results = [queue.get(timeout=60) for _ in racers]
    for racer in racers:
        racer.join(timeout=10)
    outcomes = Counter(o for result in results for o in result)
    assert outcomes[svc.PUBLISHED] == 2
    assert claims_per_stream(store) == {f"post-{RELATIONS}-2027-outbox": 1,
                                        "post-second-27-2027-outbox": 1}
    assert len(outbox_records(settings)) == 2
    assert len(post_events(store, ev.PUBLISHED)) == 2


def test_a_second_pass_posts_nothing(store: SqlEventStore, tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url)
    service = service_for(store, settings, FixedClock(DUE + dt.timedelta(minutes=1)))
    assert {r.outcome for r in service.post_due()} == {svc.PUBLISHED}
    assert {r.outcome for r in service.post_due()} == {svc.ALREADY_PUBLISHED}
    assert len(outbox_records(settings)) == 2
    relations_line = next(r for r in outbox_records(settings) if r["key"].startswith(RELATIONS))
    assert relations_line["text"].startswith(FORTIETH)


@pytest.mark.parametrize("delivered", [True, False], ids=["outbox-line-present", "absent"])
def test_crash_between_claim_and_outcome_is_reconciled(
        store: SqlEventStore, tmp_path: Path, db_url: str, delivered: bool) -> None:
    settings = settings_for(tmp_path, db_url, channels=["outbox"])
    now = DUE + dt.timedelta(seconds=5)
    child = FORK.Process(target=crash_worker,
                          args=(db_url, str(tmp_path), now.isoformat(), delivered))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 17
    assert len(post_events(store, ev.CLAIMED)) == 1
    assert post_events(store, ev.PUBLISHED) == []
    assert len(outbox_records(settings)) == (1 if delivered else 0)

    restarted = service_for(store, settings, FixedClock(now + dt.timedelta(seconds=5)))
    restarted.post_due()

    records = outbox_records(settings)
    assert [r["key"] for r in records].count(f"{RELATIONS}/2027/outbox") == 1
    published = [e for e in post_events(store, ev.PUBLISHED)
                 if e.payload["key"] == f"{RELATIONS}/2027/outbox"]
    assert len(published) == 1
    assert published[0].payload["already_published"] is delivered
    claimed_text = post_events(store, ev.CLAIMED)[0].payload["text"]
    assert published[0].payload["text"] == claimed_text


def test_a_live_workers_claim_is_left_alone_until_its_lease_ends(
        store: SqlEventStore, tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url)
    clock = FixedClock(DUE + dt.timedelta(seconds=5))
    service = service_for(store, settings, clock, claim_lease=dt.timedelta(minutes=2))
    planner = Planner(settings, service.read_models())
    post = planner.plan(DUE.date(), ["outbox"])[0]
    elsewhere = Worker(worker_id="other", host="another-host", pid=1)
    store.append(post.stream_id, [ev.claimed(post, elsewhere, clock.now(), post.text or "", 1)],
                 expected_version=0)

    clock.advance(dt.timedelta(minutes=1))
    outcomes = {r.post.key: r.outcome for r in service.post_due()}
    assert outcomes[post.key] == svc.WAITING
    clock.advance(dt.timedelta(minutes=2))
    outcomes = {r.post.key: r.outcome for r in service.post_due()}
    assert outcomes[post.key] == svc.PUBLISHED
    assert [e.payload["worker_id"] for e in store.read_stream(post.stream_id)
            if e.type == ev.CLAIMED] == ["other", service.worker.worker_id]


@pytest.mark.parametrize(("late", "sent"), [(dt.timedelta(hours=5, minutes=59), True),
                                            (dt.timedelta(hours=6, minutes=1), False)])
def test_after_downtime_within_grace_is_sent_beyond_is_skipped(
        store: SqlEventStore, tmp_path: Path, db_url: str, late: dt.timedelta,
        sent: bool) -> None:
    settings = settings_for(tmp_path, db_url, grace_hours=6)
    service = service_for(store, settings, FixedClock(DUE + late))
    outcomes = {r.outcome for r in service.post_due()}
    assert outcomes == ({svc.PUBLISHED} if sent else {svc.SKIPPED})
    assert len(outbox_records(settings)) == (2 if sent else 0)
    skips = post_events(store, ev.SKIPPED)
    assert [s.payload["reason"] for s in skips] == ([] if sent else [ev.TOO_LATE] * 2)


def test_days_old_posts_are_never_sent(store: SqlEventStore, tmp_path: Path,
                                       db_url: str) -> None:
    settings = settings_for(tmp_path, db_url)
    service = service_for(store, settings, FixedClock(DUE + dt.timedelta(days=3)))
    assert service.post_due() == []
    assert outbox_records(settings) == []


def _break_outbox(settings_path: Path) -> None:
    settings_path.mkdir(parents=True)  # a directory where the file goes: every write fails


def test_a_failed_attempt_is_retried_then_skipped_when_the_window_closes(
        store: SqlEventStore, tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url, grace_hours=1)
    outbox = settings.path(settings.posting.outbox_path)
    _break_outbox(outbox)
    clock = FixedClock(DUE + dt.timedelta(seconds=5))
    service = service_for(store, settings, clock)
    first = service.post_due()
    assert {r.outcome for r in first} == {svc.FAILED}
    retry_at = first[0].retry_at
    assert retry_at == clock.now() + dt.timedelta(minutes=1)

    assert {r.outcome for r in service.post_due()} == {svc.WAITING}
    outbox.rmdir()
    clock.advance(dt.timedelta(minutes=1))
    assert {r.outcome for r in service.post_due()} == {svc.PUBLISHED}
    assert len(outbox_records(settings)) == 2
    stream = [e.type for e in store.read_stream(f"post-{RELATIONS}-2027-outbox")]
    assert stream == [ev.DRAFTED, ev.CLAIMED, ev.FAILED, ev.CLAIMED, ev.PUBLISHED]


def test_retries_stop_when_the_grace_window_closes(
        store: SqlEventStore, tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url, grace_hours=1)
    _break_outbox(settings.path(settings.posting.outbox_path))
    clock = FixedClock(DUE + dt.timedelta(minutes=50))
    service = service_for(store, settings, clock)
    assert {r.outcome for r in service.post_due()} == {svc.FAILED}
    clock.advance(dt.timedelta(minutes=11))
    assert {r.outcome for r in service.post_due()} == {svc.SKIPPED}
    stream = store.read_stream(f"post-{RELATIONS}-2027-outbox")
    assert [e.type for e in stream] == [ev.DRAFTED, ev.CLAIMED, ev.FAILED, ev.SKIPPED]
    assert stream[-1].payload["reason"] == ev.TOO_LATE


def test_a_milestone_retracted_while_its_post_is_pending_is_skipped(
        store: SqlEventStore, tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url)
    outbox = settings.path(settings.posting.outbox_path)
    _break_outbox(outbox)
    clock = FixedClock(DUE + dt.timedelta(seconds=5))
    service = service_for(store, settings, clock)
    service.post_due()
    retract_one(store, "second-27")
    outbox.rmdir()
    clock.advance(dt.timedelta(minutes=2))
    outcomes = {r.post.key: r.outcome for r in service.post_due()}
    assert outcomes == {f"{RELATIONS}/2027/outbox": svc.PUBLISHED,
                        "second-27/2027/outbox": svc.SKIPPED}
    last = store.read_stream("post-second-27-2027-outbox")[-1]
    assert (last.type, last.payload["reason"]) == (ev.SKIPPED, ev.RETRACTED)
    assert [r["key"] for r in outbox_records(settings)] == [f"{RELATIONS}/2027/outbox"]


def test_published_posts_read_model_lists_newest_first(
        store: SqlEventStore, tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url)
    clock = FixedClock(DUE + dt.timedelta(seconds=5))
    service = service_for(store, settings, clock)
    service.post_due()
    record_all(store, [milestone("next-day", "2000-01-28")])
    clock.advance(dt.timedelta(days=1))
    service.post_due()
    read_models: ReadModels = service.read_models()
    posts = read_models.published_posts(limit=10)
    assert posts[0].key == "next-day/2027/outbox"
    assert {p.key for p in posts} == {"next-day/2027/outbox", f"{RELATIONS}/2027/outbox",
                                      "second-27/2027/outbox"}
    fortieth = next(p for p in posts if p.key.startswith(RELATIONS))
    assert fortieth.text.startswith(FORTIETH)
    assert fortieth.milestone_ids == (RELATIONS,)
    assert fortieth.local_date == dt.date(2027, 1, 27)
    assert fortieth.channel == "outbox"
    assert read_models.published_posts(limit=1)[0].key == "next-day/2027/outbox"


def test_a_crashed_claim_found_after_the_window_is_skipped_not_sent(
        store: SqlEventStore, tmp_path: Path, db_url: str) -> None:
    settings = settings_for(tmp_path, db_url, channels=["outbox"])
    now = DUE + dt.timedelta(seconds=5)
    child = FORK.Process(target=crash_worker, args=(db_url, str(tmp_path), now.isoformat(), False))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 17

    late = service_for(store, settings, FixedClock(DUE + dt.timedelta(hours=7)))
    late.post_due()
    stream = store.read_stream(f"post-{RELATIONS}-2027-outbox")
    assert [e.type for e in stream] == [ev.DRAFTED, ev.CLAIMED, ev.SKIPPED]
    assert stream[-1].payload["reason"] == ev.TOO_LATE
    assert "never reported back" in stream[-1].payload["detail"]
    assert [r["key"] for r in outbox_records(settings)].count(f"{RELATIONS}/2027/outbox") == 0
