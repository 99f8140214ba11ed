"""Operator alerts through Apprise to a loopback json:// receiver: once per cause, restarts too."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from chronicle.posting import service as svc
from chronicle.posting.alerts import (
    ALERT_URLS_ENV,
    Alert,
    AlertConfigError,
    Alerts,
    alert_stream,
)
from chronicle.posting.clock import FixedClock
from chronicle.posting.leadership import leader_present, leadership_for
from chronicle.posting.runner import LeaderWatch
from chronicle.store import SqlEventStore
from tests.test_posting_languages import shipped_relations
from tests.test_posting_support import RELATIONS, record_all, relations, service_for, settings_for

DUE = dt.datetime(2027, 1, 27, 1, 0, tzinfo=dt.UTC)
KEY = f"{RELATIONS}/2027/outbox"


class Receiver:
    """A loopback HTTP server that keeps every JSON body Apprise's json:// target posts."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_port}/alerts"

    def titles(self) -> list[str]:
        return [str(b.get("title")) for b in self.bodies]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.thread.start()
    try:
        yield found
    finally:
        found.server.shutdown()
        found.server.server_close()


def alerting(store: SqlEventStore, tmp_path: Path, db_url: str, clock: FixedClock, url: str
             ) -> svc.PostingService:
    settings = settings_for(tmp_path, db_url, require_approval=True)
    alerts = Alerts.from_env(store, clock, {ALERT_URLS_ENV: f" {url} ,"})
    return service_for(store, settings, clock, alerts=alerts)


def test_each_alert_fires_once_across_a_restart(
        store: SqlEventStore, tmp_path: Path, db_url: str, receiver: Receiver) -> None:
    record_all(store, [relations()])
    clock = FixedClock(DUE - dt.timedelta(hours=20))
    alerting(store, tmp_path, db_url, clock, receiver.url).post_due()
    alerting(store, tmp_path, db_url, clock, receiver.url).post_due()  # a restart
    (reminder,) = receiver.bodies  # the 1-day mark, once; the outbox passes its preflight
    assert RELATIONS in reminder["message"] and "2027-01-27 09:00 Asia/Ulaanbaatar" in (
        reminder["message"]) and f"chronicle approve {KEY}" in reminder["message"]

    clock.current = DUE + dt.timedelta(seconds=5)  # due: no more reminders, one "held" alert
    for _ in range(2):
        assert [r.outcome for r in alerting(store, tmp_path, db_url, clock,
                                            receiver.url).post_due()] == [svc.HELD]
    assert len(receiver.bodies) == 2
    held = receiver.bodies[1]
    assert str(held["title"]).startswith("Post held") and "not approved" in held["message"]
    assert len(store.read_stream(alert_stream(f"held-{KEY}"))) == 2  # raised, delivered


def test_a_target_apprise_does_not_know_is_named(store: SqlEventStore) -> None:
    clock = FixedClock(DUE)
    with pytest.raises(AlertConfigError, match=f"{ALERT_URLS_ENV}: target 2"):
        Alerts.from_env(store, clock, {ALERT_URLS_ENV: "json://127.0.0.1:9/a,nonsense"})
    assert not Alerts(store, [], clock).send(Alert(cause="c", title="t", body="b"))
    assert store.read_stream(alert_stream("c")) == []  # nothing sent, nothing recorded


def test_no_scheduler_leader_for_five_minutes_is_alerted_once(
        store: SqlEventStore, tmp_path: Path, db_url: str, receiver: Receiver) -> None:
    settings = settings_for(tmp_path, db_url)
    clock = FixedClock(DUE)
    alerts = Alerts.from_env(store, clock, {ALERT_URLS_ENV: receiver.url})
    leader = leadership_for(store.engine)
    assert leader.try_acquire()
    try:
        assert leader_present(store.engine) is True
        watch = LeaderWatch(store, settings, alerts, clock)
        assert not watch.check() and watch.since is None
    finally:
        leader.release()
    assert leader_present(store.engine) is False
    assert not watch.check()  # noticed, not yet five minutes
    clock.advance(dt.timedelta(minutes=5))
    assert watch.check()
    restarted = LeaderWatch(store, settings, alerts, clock)
    restarted.since = watch.since
    assert not restarted.check()  # the same outage is not announced again
    (alert,) = receiver.bodies
    assert alert["title"] == "No anniversary scheduler is running"
    assert "since 2027-01-27 09:00 Asia/Ulaanbaatar" in alert["message"]


def test_an_unreviewed_translation_is_alerted_without_require_approval(
        store: SqlEventStore, tmp_path: Path, db_url: str, receiver: Receiver) -> None:
    record_all(store, [shipped_relations()])
    clock = FixedClock(DUE - dt.timedelta(hours=20))
    settings = settings_for(tmp_path, db_url, languages=["en", "mn"])
    alerts = Alerts.from_env(store, clock, {ALERT_URLS_ENV: receiver.url})
    service_for(store, settings, clock, alerts=alerts).post_due()
    (reminder,) = receiver.bodies  # only the Mongolian post awaits an approval
    assert f"chronicle approve {KEY}/mn" in reminder["message"]
    clock.current = DUE + dt.timedelta(seconds=5)
    results = service_for(store, settings, clock, alerts=alerts).post_due()
    assert sorted((r.post.key, r.outcome, r.detail) for r in results) == [
        (KEY, svc.PUBLISHED, None), (f"{KEY}/mn", svc.HELD, "translation not reviewed")]
    held = receiver.bodies[1]
    assert str(held["title"]).startswith("Post held") and "translation not reviewed" in (
        held["message"])
