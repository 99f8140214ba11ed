"""The X channel end to end: the posting service, tweepy, and the fake X API on loopback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from chronicle.posting import events as ev
from chronicle.posting import service as svc
from chronicle.posting.clock import FixedClock
from chronicle.posting.service import PostingService
from chronicle.publishers.x import XCredentials
from chronicle.store import SqlEventStore, open_store
from tests.fake_x_api import FakeXApi, Secrets, XResponses, load_fixtures
from tests.test_posting_support import (
    FORTIETH,
    RELATIONS,
    outbox_records,
    post_events,
    record_all,
    relations,
    service_for,
    settings_for,
)

ENVIRON = {
    "CHRONICLE_X_CONSUMER_KEY": "ck-posting-test",
    "CHRONICLE_X_CONSUMER_SECRET": "cs-posting-secret",
    "CHRONICLE_X_ACCESS_TOKEN": "1456-at-posting",
    "CHRONICLE_X_ACCESS_TOKEN_SECRET": "ats-posting-secret",
}
CREDENTIALS = XCredentials.from_env(ENVIRON)
assert CREDENTIALS is not None
DUE = dt.datetime(2027, 1, 27, 1, 0, tzinfo=dt.UTC)
X_STREAM = f"post-{RELATIONS}-2027-x"


@pytest.fixture
def x_api() -> Iterator[FakeXApi]:
    with FakeXApi(Secrets(*CREDENTIALS.secrets()), XResponses(load_fixtures())) as api:
        yield api
        assert api.take_problems() == []


@pytest.fixture
def store(sqlite_url: str) -> Iterator[SqlEventStore]:
    opened = open_store(sqlite_url)
    record_all(opened, [relations()])
    yield opened
    opened.close()


def x_service(store: SqlEventStore, tmp_path: Path, api: FakeXApi, clock: FixedClock,
              **x_options: object) -> PostingService:
    settings = settings_for(tmp_path, str(store.engine.url), channels=["outbox", "x"],
                            x_api_base_url=api.base_url, x_timeout_seconds=5)
    return service_for(store, settings, clock, environ=ENVIRON,
                       x_options={"sleep": lambda _s: None, **x_options})


def x_outcomes(results: list[svc.PostResult]) -> list[str]:
    return [r.outcome for r in results if r.post.channel == "x"]


def test_success_records_the_post_id_and_url(store: SqlEventStore, tmp_path: Path,
                                             x_api: FakeXApi) -> None:
    x_api.script(x_api.responses.created())
    service = x_service(store, tmp_path, x_api, FixedClock(DUE + dt.timedelta(seconds=2)))
    assert x_outcomes(service.post_due()) == [svc.PUBLISHED]
    (request,) = x_api.requests
    assert request.text.startswith(FORTIETH)
    (published,) = [e for e in store.read_stream(X_STREAM) if e.type == ev.PUBLISHED]
    created = x_api.responses.created_id
    assert published.payload["remote_id"] == created
    assert published.payload["url"] == f"https://x.com/i/web/status/{created}"
    assert published.payload["already_published"] is False
    assert [r["key"] for r in outbox_records(service.settings)] == [f"{RELATIONS}/2027/outbox"]
    assert x_outcomes(service.post_due()) == [svc.ALREADY_PUBLISHED]
    assert len(x_api.requests) == 1


def test_duplicate_content_403_counts_as_published(store: SqlEventStore, tmp_path: Path,
                                                   x_api: FakeXApi) -> None:
    x_api.script(x_api.responses.error("403_duplicate_content"))
    service = x_service(store, tmp_path, x_api, FixedClock(DUE + dt.timedelta(seconds=2)))
    assert x_outcomes(service.post_due()) == [svc.ALREADY_ON_CHANNEL]
    assert [e.type for e in store.read_stream(X_STREAM)] == [ev.DRAFTED, ev.CLAIMED, ev.PUBLISHED]
    assert store.read_stream(X_STREAM)[-1].payload["already_published"] is True


def test_503_is_retried_by_the_publisher(store: SqlEventStore, tmp_path: Path,
                                         x_api: FakeXApi) -> None:
    x_api.script(x_api.responses.error("503_service_unavailable"), x_api.responses.created())
    service = x_service(store, tmp_path, x_api, FixedClock(DUE + dt.timedelta(seconds=2)))
    assert x_outcomes(service.post_due()) == [svc.PUBLISHED]
    assert len(x_api.requests) == 2
    assert [e.type for e in store.read_stream(X_STREAM)] == [ev.DRAFTED, ev.CLAIMED, ev.PUBLISHED]


def test_503_beyond_the_publishers_attempts_is_retried_from_the_log(
        store: SqlEventStore, tmp_path: Path, x_api: FakeXApi) -> None:
    x_api.script(x_api.responses.error("503_service_unavailable"), x_api.responses.created())
    clock = FixedClock(DUE + dt.timedelta(seconds=2))
    service = x_service(store, tmp_path, x_api, clock, max_attempts=1)
    (failed,) = [r for r in service.post_due() if r.post.channel == "x"]
    assert failed.outcome == svc.FAILED
    assert failed.retry_at == clock.now() + dt.timedelta(minutes=1)
    failure = store.read_stream(X_STREAM)[-1]
    assert failure.type == ev.FAILED
    assert failure.payload["permanent"] is False
    assert "503" in failure.payload["error"]

    clock.advance(dt.timedelta(minutes=1))
    assert x_outcomes(service.post_due()) == [svc.PUBLISHED]
    assert [e.type for e in store.read_stream(X_STREAM)] == [
        ev.DRAFTED, ev.CLAIMED, ev.FAILED, ev.CLAIMED, ev.PUBLISHED]
    first, second = x_api.requests
    assert first.text == second.text  # the retry sends the claimed text again


def test_x_credentials_are_never_written_to_the_log(store: SqlEventStore, tmp_path: Path,
                                                    x_api: FakeXApi) -> None:
    x_api.script(x_api.responses.error("401_unauthorized"))
    service = x_service(store, tmp_path, x_api, FixedClock(DUE + dt.timedelta(seconds=2)))
    assert x_outcomes(service.post_due()) == [svc.FAILED]
    failure = store.read_stream(X_STREAM)[-1]
    assert failure.payload["permanent"] is True
    logged = repr([e.payload for e in post_events(store)])
    assert not [s for s in CREDENTIALS.secrets() if s in logged]
