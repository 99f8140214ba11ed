"""Shared helpers of the posting tests: real milestones in a real log, real settings, the outbox.

(No tests here; the name keeps it among the posting test files.)
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from chronicle.config import Settings
from chronicle.dates import HistoricalDate
from chronicle.domain import Milestone, Source, record, retract
from chronicle.posting.channels import build_publishers
from chronicle.posting.clock import Clock, FixedClock
from chronicle.posting.events import Worker
from chronicle.posting.service import PostingService
from chronicle.repository import Decision, MilestoneRepository
from chronicle.store import SqlEventStore, open_store

UB = dt.timezone(dt.timedelta(hours=8))
RELATIONS = "diplomatic-relations-established"
RELATIONS_TITLE = "The United States and Mongolia establish diplomatic relations"
FORTIETH = ("Today, January 27, we mark the 40th anniversary of diplomatic relations between "
            "the United States and Mongolia")
SOURCE = Source(title="Test source", quote="A quote.", file="000_test.txt")


def milestone(milestone_id: str, date: str, *, title: str | None = None, summary: str = "",
              anniversary_of: str | None = None) -> Milestone:
    return Milestone(id=milestone_id, title=title or f"Milestone {milestone_id}",
                     date=HistoricalDate.parse(date), summary=summary, tags=("diplomacy",),
                     sources=(SOURCE,), anniversary_of=anniversary_of)


def relations() -> Milestone:
    return milestone(RELATIONS, "1987-01-27", title=RELATIONS_TITLE,
                     summary="Ambassadors exchange notes.",
                     anniversary_of="diplomatic relations between the United States and Mongolia")


def record_all(store: SqlEventStore, milestones: Iterable[Milestone]) -> None:
    repo = MilestoneRepository(store)
    decisions = [Decision(repo.get(m.id), record(repo.get(m.id), m)) for m in milestones]
    repo.save(decisions, {"source": "test"})


def retract_one(store: SqlEventStore, milestone_id: str) -> None:
    repo = MilestoneRepository(store)
    state = repo.get(milestone_id)
    repo.save([Decision(state, retract(state, "withdrawn in a test"))], {"source": "test"})


def settings_for(tmp_path: Path, db_url: str, **posting: Any) -> Settings:
    values: dict[str, Any] = {"channels": ["outbox"], **posting}
    return Settings(base_dir=tmp_path, database_url=db_url, posting=values,
                    feed={"base_url": "https://chronicle.example.org"})


def service_for(store: SqlEventStore, settings: Settings, clock: Clock, *,
                environ: dict[str, str] | None = None, worker: Worker | None = None,
                x_options: dict[str, Any] | None = None, **options: Any) -> PostingService:
    publishers = build_publishers(settings, clock, environ or {}, x_options=x_options)
    return PostingService(store, settings, publishers, clock, worker=worker, **options)


def outbox_records(settings: Settings) -> list[dict[str, Any]]:
    path = settings.path(settings.posting.outbox_path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def post_events(store: SqlEventStore, type_: str | None = None) -> list[Any]:
    return [e for e in store.iter_all() if e.stream_id.startswith("post-")
            and (type_ is None or e.type == type_)]


def race_worker(db_url: str, base_dir: str, now_iso: str, barrier: Any, results: Any) -> None:
    """One racing process: its own store, service and worker; all start at the barrier."""
    store = open_store(db_url)
    try:
        settings = settings_for(Path(base_dir), db_url)
        clock = FixedClock(dt.datetime.fromisoformat(now_iso))
        service = service_for(store, settings, clock)
        service.plans(clock.now().date())  # imports and read models warm before the race
        barrier.wait(timeout=60)
        results.put([r.outcome for r in service.post_due()])
    finally:
        store.close()


class CrashAfterPublishing:
    """A channel that delivers through the real outbox, then kills its process at once."""

    name = "outbox"

    def __init__(self, inner: Any, *, deliver: bool) -> None:
        self.inner = inner
        self.deliver = deliver

    def text_limit(self) -> Any:
        return self.inner.text_limit()

    def preflight(self) -> Any:
        return self.inner.preflight()

    def publish(self, post: Any) -> Any:
        if self.deliver:
            self.inner.publish(post)
        os._exit(17)  # a crash: no outcome is recorded, no cleanup runs


def crash_worker(db_url: str, base_dir: str, now_iso: str, deliver: bool) -> None:
    """Claim the day's post, maybe deliver it, and die before recording the outcome."""
    store = open_store(db_url)
    settings = settings_for(Path(base_dir), db_url)
    clock = FixedClock(dt.datetime.fromisoformat(now_iso))
    service = service_for(store, settings, clock)
    service.publishers["outbox"] = CrashAfterPublishing(service.publishers["outbox"],
                                                        deliver=deliver)
    service.post_due()
    raise AssertionError("the publisher should have ended this process")
