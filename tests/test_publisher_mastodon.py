"""MastodonPublisher against a fake instance on loopback that checks Mastodon.py's requests."""

from __future__ import annotations

import datetime as dt
import logging
import random
import socket
from collections.abc import Iterator

import pytest

from chronicle.cards import anniversary_image
from chronicle.publishers import OutgoingPost, PermanentPublishError, RateLimited
from chronicle.publishers._retry import RetryPolicy
from chronicle.publishers.base import TransientPublishError
from chronicle.publishers.mastodon import TOKEN_ENV, MastodonPublisher
from tests.fake_mastodon_api import FakeMastodon, Fault

TOKEN = "mastodon-test-token-5f2a9c"
START = dt.datetime(2027, 1, 27, 1, 0, tzinfo=dt.UTC)
TEXT = ("Today, January 27, we mark 40 years of diplomatic relations — Монгол ᠮᠣᠩᠭᠣᠯ 🇲🇳 "
        "https://chronicle.example.org/milestones/diplomatic-relations-established")
IMAGE = anniversary_image(title="Diplomatic relations established", years=40,
                          local_date=dt.date(2027, 1, 27), site_name="A chronicle")
POST = OutgoingPost(key="diplomatic-relations-established/2027/mastodon", channel="mastodon",
                    text=TEXT, milestone_ids=("diplomatic-relations-established",),
                    local_date=dt.date(2027, 1, 27), image=IMAGE)


class FakeClock:
    """Time that moves only when the publisher sleeps."""

    def __init__(self) -> None:
        self.current = START
        self.sleeps: list[float] = []

    def now(self) -> dt.datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += dt.timedelta(seconds=seconds)


@pytest.fixture
def api() -> Iterator[FakeMastodon]:
    with FakeMastodon(TOKEN) as server:
        yield server
        assert server.problems == []


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def publisher(api: FakeMastodon, clock: FakeClock, *, token: str = TOKEN,
              max_wait: dt.timedelta = dt.timedelta(minutes=2)) -> MastodonPublisher:
    retry = RetryPolicy(sleep=clock.sleep, clock=clock.now, jitter=random.Random(3).random,
                        max_wait=max_wait)
    return MastodonPublisher(token, base_url=api.base_url, timeout=2.0, retry=retry)


def test_posts_the_card_then_the_status_under_the_claim_key(api: FakeMastodon,
                                                           clock: FakeClock) -> None:
    receipt = publisher(api, clock).publish(POST)

    (status,) = api.statuses
    assert receipt.remote_id == status.id
    assert receipt.url == f"{api.base_url}/@mastodonpy_test/{status.id}"
    assert not receipt.already_published
    assert status.key == POST.key
    assert status.form["status"] == [TEXT]
    assert status.form["language"] == ["en"]
    assert status.form["visibility"] == ["public"]
    (media_id,) = status.form["media_ids[]"]
    media = api.media[media_id]
    assert bytes.fromhex(media["_png"]) == IMAGE.png
    assert media["description"] == IMAGE.alt
    assert [s.path.split("?")[0] for s in api.requests] == [
        "/api/v2/instance/", "/api/v1/accounts/verify_credentials",
        f"/api/v1/accounts/{api.account_id}/statuses", "/api/v2/media", "/api/v1/statuses"]
    assert all(s.headers["authorization"] == f"Bearer {TOKEN}" for s in api.requests)


def test_a_dropped_answer_is_retried_under_the_same_key_and_posts_once(
        api: FakeMastodon, clock: FakeClock) -> None:
    api.fail("/api/v1/statuses", Fault(drop=True))
    receipt = publisher(api, clock).publish(POST)

    assert len(api.statuses) == 1, "the retry must get the first status back"
    assert receipt.remote_id == api.statuses[0].id
    sent = api.posts_to("/api/v1/statuses")
    assert len(sent) == 2 and {s.headers["idempotency-key"] for s in sent} == {POST.key}
    assert len(clock.sleeps) == 1


def test_a_second_publish_after_a_crash_returns_the_original_status(
        api: FakeMastodon, clock: FakeClock) -> None:
    first = publisher(api, clock).publish(POST)
    again = publisher(api, clock).publish(POST)  # a new process, the same claim key
    assert again.remote_id == first.remote_id
    assert len(api.statuses) == 1


def test_a_retry_after_the_instance_forgot_the_key_finds_the_earlier_status(
        api: FakeMastodon, clock: FakeClock) -> None:
    api.created_at = START
    first = publisher(api, clock).publish(POST)
    api._keys.clear()  # an hour later: Mastodon no longer knows the Idempotency-Key
    again = publisher(api, clock).publish(POST)
    assert again.already_published and again.remote_id == first.remote_id
    assert len(api.statuses) == 1 and len(api.posts_to("/api/v1/statuses")) == 1


def test_last_years_post_of_the_same_page_is_not_this_years(api: FakeMastodon,
                                                          clock: FakeClock) -> None:
    api.created_at = START - dt.timedelta(days=365)
    publisher(api, clock).publish(POST)
    api._keys.clear()
    again = publisher(api, clock).publish(POST)
    assert not again.already_published
    assert len(api.statuses) == 2


def test_503_is_retried_with_backoff(api: FakeMastodon, clock: FakeClock) -> None:
    api.fail("/api/v1/statuses", Fault(503), Fault(503))
    receipt = publisher(api, clock).publish(POST)
    assert receipt.remote_id == api.statuses[0].id
    assert len(clock.sleeps) == 2 and all(0 <= s <= 4 for s in clock.sleeps)


def test_503_until_the_attempts_run_out_is_transient(api: FakeMastodon, clock: FakeClock) -> None:
    api.fail("/api/v1/statuses", *[Fault(503)] * 5)
    with pytest.raises(TransientPublishError, match="gave up after 5 attempts") as info:
        publisher(api, clock).publish(POST)
    assert not info.value.permanent
    assert api.statuses == []


def test_429_waits_for_the_reset_the_instance_reports(api: FakeMastodon, clock: FakeClock) -> None:
    api.fail("/api/v1/statuses", Fault(429, reset_in=40))
    publisher(api, clock).publish(POST)
    (wait,) = clock.sleeps
    assert 35 <= wait <= 42, wait
    assert len(api.statuses) == 1


def test_429_with_a_distant_reset_goes_back_to_the_scheduler(api: FakeMastodon,
                                                            clock: FakeClock) -> None:
    api.fail("/api/v1/statuses", Fault(429, reset_in=3600))
    with pytest.raises(RateLimited) as info:
        publisher(api, clock).publish(POST)
    assert info.value.retry_at is not None
    assert dt.timedelta(minutes=59) < info.value.retry_at - START <= dt.timedelta(minutes=61)
    assert clock.sleeps == []


def test_401_is_permanent_and_the_token_is_never_shown(api: FakeMastodon, clock: FakeClock,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(PermanentPublishError, match=r"401.*The access token is invalid"):
        publisher(api, clock, token="wrong-token-123").publish(POST)
    assert "wrong-token-123" not in caplog.text
    assert api.statuses == []


def test_422_too_long_is_permanent(api: FakeMastodon, clock: FakeClock) -> None:
    api.fail("/api/v1/statuses", Fault(422))
    with pytest.raises(PermanentPublishError, match=r"422.*500 Zeichen"):
        publisher(api, clock).publish(POST)


def test_the_instances_own_limit_is_used_and_urls_count_23(api: FakeMastodon,
                                                          clock: FakeClock) -> None:
    api.max_characters = 60
    channel = publisher(api, clock)
    limit = channel.text_limit()
    assert limit.max_length == 60
    assert limit.measure("🇲🇳 a https://example.org/" + "x" * 200) == 1 + 3 + 23
    assert limit.measure("@embassy@mastodon.social") == len("@embassy")
    with pytest.raises(PermanentPublishError, match="> 60"):
        channel.publish(POST)
    assert api.posts_to("/api/v1/statuses") == []


def test_a_post_without_an_image_sends_no_media(api: FakeMastodon, clock: FakeClock) -> None:
    post = OutgoingPost(key="x/2027/mastodon", channel="mastodon", text="Сайн байна уу",
                        milestone_ids=("x",), local_date=dt.date(2027, 1, 27), language="mn")
    publisher(api, clock).publish(post)
    (status,) = api.statuses
    assert "media_ids[]" not in status.form
    assert status.form["language"] == ["mn"]


def test_preflight_checks_the_token_and_reads_the_limits(api: FakeMastodon,
                                                        clock: FakeClock) -> None:
    check = publisher(api, clock).preflight()
    assert check.ok, check.detail
    assert check.channel == "mastodon"
    assert "@mastodonpy_test" in check.detail and "500 characters" in check.detail
    bad = publisher(api, clock, token="nope").preflight()
    assert not bad.ok and "401" in bad.detail
    assert api.statuses == [] and api.media == {}


def test_from_env_needs_both_the_url_and_the_token(api: FakeMastodon) -> None:
    assert MastodonPublisher.from_env({}, base_url=api.base_url) is None
    assert MastodonPublisher.from_env({TOKEN_ENV: TOKEN}, base_url=None) is None
    built = MastodonPublisher.from_env({TOKEN_ENV: TOKEN}, base_url=api.base_url)
    assert isinstance(built, MastodonPublisher)
    assert TOKEN not in repr(built)


def test_an_unreachable_instance_counts_with_the_defaults_and_fails_preflight(
        clock: FakeClock) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    retry = RetryPolicy(sleep=clock.sleep, clock=clock.now, jitter=random.Random(3).random,
                        max_wait=dt.timedelta(minutes=2))
    offline = MastodonPublisher(TOKEN, base_url=f"http://127.0.0.1:{port}", timeout=1.0,
                                retry=retry)
    limit = offline.text_limit()  # rehearse and queue still measure texts
    assert limit.max_length == 500
    assert limit.measure("see https://example.org/a/very/long/path/indeed") == 4 + 23
    check = offline.preflight()
    assert not check.ok and check.channel == "mastodon"
