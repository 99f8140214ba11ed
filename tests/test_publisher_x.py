"""XPublisher against a real HTTP server that checks tweepy's signed requests."""

from __future__ import annotations

import datetime
import logging
import random
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from chronicle.publishers import (
    OutgoingPost,
    PermanentPublishError,
    Publisher,
    RateLimited,
    TransientPublishError,
)
from chronicle.publishers._logsafe import REDACTED
from chronicle.publishers.x import IncompleteXCredentials, XCredentials, XPublisher
from tests.fake_x_api import FakeXApi, Secrets, XResponses, load_fixtures

CREDENTIALS = XCredentials(
    consumer_key="ck-Test+Key/1a2b3c",
    consumer_secret="cs-very-secret-consumer-4d5e6f",
    access_token="1456-at+Token/7g8h9i",
    access_token_secret="ats-very-secret-token-0j1k2l",
)
SECRETS = Secrets(*CREDENTIALS.secrets())
START = datetime.datetime(2027, 1, 27, 1, 0, tzinfo=datetime.UTC)  # 09:00 in Ulaanbaatar
T0 = int(START.timestamp())
TEXT = "Today, January 27, we mark 40 years of diplomatic relations — Монгол ᠮᠣᠩᠭᠣᠯ 🇲🇳"
POST = OutgoingPost(
    key="diplomatic-relations-established/2027/x",
    channel="x",
    text=TEXT,
    milestone_ids=("diplomatic-relations-established",),
    local_date=datetime.date(2027, 1, 27),
)


class FakeClock:
    """Time that moves only when the publisher sleeps."""

    def __init__(self) -> None:
        self.current = START
        self.sleeps: list[float] = []

    def now(self) -> datetime.datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += datetime.timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def replies() -> XResponses:
    return XResponses(load_fixtures())


@pytest.fixture
def x_api(replies: XResponses) -> Iterator[FakeXApi]:
    with FakeXApi(SECRETS, replies) as api:
        yield api
        assert api.take_problems() == []


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def publisher(api: FakeXApi, clock: FakeClock, **options: Any) -> XPublisher:
    options = {"timeout": (2.0, 5.0), "jitter": random.Random(7).random, **options}
    return XPublisher(
        CREDENTIALS, api_base_url=api.base_url, sleep=clock.sleep, clock=clock.now, **options
    )


def test_success_records_id_and_url(x_api: FakeXApi, clock: FakeClock) -> None:
    x_api.script(x_api.responses.created())
    x = publisher(x_api, clock)
    assert isinstance(x, Publisher)
    receipt = x.publish(POST)
    assert receipt.remote_id == "1456012973835788293"
    assert receipt.url == "https://x.com/i/web/status/1456012973835788293"
    assert not receipt.already_published
    assert [r.text for r in x_api.requests] == [TEXT]
    assert clock.sleeps == []


def test_success_with_edit_history_field(x_api: FakeXApi, clock: FakeClock) -> None:
    x_api.script(x_api.responses.created(edit_history=True))
    receipt = publisher(x_api, clock).publish(POST)
    assert receipt.remote_id == x_api.responses.created_id


def test_429_waits_for_reported_reset_then_succeeds(x_api: FakeXApi, clock: FakeClock) -> None:
    x_api.script(x_api.responses.too_many_requests(reset=T0 + 120), x_api.responses.created())
    receipt = publisher(x_api, clock).publish(POST)
    assert receipt.remote_id == x_api.responses.created_id
    assert clock.sleeps == [121.0]  # until the reset, plus a one-second margin
    assert len(x_api.requests) == 2


def test_429_with_24h_cap_beyond_max_wait_raises(x_api: FakeXApi, clock: FakeClock) -> None:
    reply = x_api.responses.too_many_requests(
        reset=T0 + 60, remaining="49", user_24h_reset=T0 + 10 * 3600
    )
    x_api.script(reply)
    with pytest.raises(RateLimited) as caught:
        publisher(x_api, clock).publish(POST)
    assert caught.value.retry_at == START + datetime.timedelta(hours=10)
    assert not caught.value.permanent
    assert clock.sleeps == []
    assert len(x_api.requests) == 1


def test_429_with_24h_cap_waits_for_the_cap_not_the_window(
    x_api: FakeXApi, clock: FakeClock
) -> None:
    reply = x_api.responses.too_many_requests(reset=T0 + 60, user_24h_reset=T0 + 600)
    x_api.script(reply, x_api.responses.created())
    publisher(x_api, clock).publish(POST)
    assert clock.sleeps == [601.0]


def test_429_window_beyond_max_wait_raises(x_api: FakeXApi, clock: FakeClock) -> None:
    x_api.script(x_api.responses.too_many_requests(reset=T0 + 120))
    with pytest.raises(RateLimited) as caught:
        publisher(x_api, clock, max_wait=datetime.timedelta(seconds=60)).publish(POST)
    assert caught.value.retry_at == START + datetime.timedelta(seconds=120)


def test_403_duplicate_is_already_published(x_api: FakeXApi, clock: FakeClock) -> None:
    x_api.script(x_api.responses.error("403_duplicate_content"))
    receipt = publisher(x_api, clock).publish(POST)
    assert receipt.already_published
    assert receipt.remote_id is None
    assert len(x_api.requests) == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("401_unauthorized", "401 Unauthorized: Unauthorized"),
        ("403_unsupported_authentication", "OAuth 2.0 Application-Only is forbidden"),
        ("403_client_forbidden", "must use keys and tokens from a Twitter developer App"),
    ],
)
def test_auth_failures_are_permanent(
    x_api: FakeXApi, clock: FakeClock, name: str, message: str
) -> None:
    x_api.script(x_api.responses.error(name))
    with pytest.raises(PermanentPublishError, match=message) as caught:
        publisher(x_api, clock).publish(POST)
    assert caught.value.permanent
    assert caught.value.retry_at is None
    assert len(x_api.requests) == 1
    assert clock.sleeps == []


def test_503_then_success_backs_off_once(x_api: FakeXApi, clock: FakeClock) -> None:
    x_api.script(x_api.responses.error("503_service_unavailable"), x_api.responses.created())
    receipt = publisher(x_api, clock, backoff_base=2.0).publish(POST)
    assert receipt.remote_id == x_api.responses.created_id
    assert len(clock.sleeps) == 1
    assert 0.0 <= clock.sleeps[0] <= 2.0


def test_503_until_attempts_run_out(x_api: FakeXApi, clock: FakeClock) -> None:
    x_api.script(*[x_api.responses.error("503_service_unavailable")] * 4)
    x = publisher(x_api, clock, max_attempts=4, backoff_base=1.0, backoff_cap=3.0)
    with pytest.raises(TransientPublishError, match="gave up after 4 attempts") as caught:
        x.publish(POST)
    assert "503 Service Unavailable" in str(caught.value)
    assert len(x_api.requests) == 4
    assert len(clock.sleeps) == 3
    assert all(0 <= s <= cap for s, cap in zip(clock.sleeps, [1.0, 2.0, 3.0], strict=True))
    assert clock.sleeps != [0.0, 0.0, 0.0]


def test_silent_server_times_out_then_transient(x_api: FakeXApi, clock: FakeClock) -> None:
    x_api.script(x_api.responses.hang(), x_api.responses.hang())
    x = publisher(x_api, clock, timeout=(1.0, 0.3), max_attempts=2)
    started = time.monotonic()
    with pytest.raises(TransientPublishError, match="ReadTimeout"):
        x.publish(POST)
    assert time.monotonic() - started < 3
    assert len(x_api.requests) == 2
    assert len(clock.sleeps) == 1


def test_wrong_secret_is_refused_by_signature_check(x_api: FakeXApi, clock: FakeClock) -> None:
    wrong = XCredentials(
        CREDENTIALS.consumer_key,
        "not-the-consumer-secret",
        CREDENTIALS.access_token,
        CREDENTIALS.access_token_secret,
    )
    x = XPublisher(wrong, api_base_url=x_api.base_url, sleep=clock.sleep, clock=clock.now)
    with pytest.raises(PermanentPublishError, match="401"):
        x.publish(POST)
    assert x_api.take_problems() == [
        "HMAC-SHA1 signature does not verify for https://api.twitter.com/2/tweets"
    ]


def test_overweight_text_is_refused_before_sending(x_api: FakeXApi, clock: FakeClock) -> None:
    post = OutgoingPost(
        key="k", channel="x", text="蒙古" * 71, milestone_ids=(), local_date=START.date()
    )
    with pytest.raises(PermanentPublishError, match="284"):
        publisher(x_api, clock).publish(post)
    assert x_api.requests == []


def _secret_forms() -> list[str]:
    return [form for s in CREDENTIALS.secrets() for form in (s, quote(s, safe=""))]


def _assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in _secret_forms():
            assert secret not in text


def test_secrets_never_logged_or_shown(
    x_api: FakeXApi, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    x_api.script(x_api.responses.created(), x_api.responses.error("401_unauthorized"))
    x = publisher(x_api, clock)
    x.publish(POST)
    with pytest.raises(PermanentPublishError) as caught:
        x.publish(POST)
    assert "Making API request: POST https://api.twitter.com/2/tweets" in caplog.text  # DEBUG on
    messages = [r.getMessage() for r in caplog.records]
    _assert_no_secret(
        caplog.text,
        *messages,
        str(caught.value),
        repr(caught.value),
        repr(x),
        repr(CREDENTIALS),
        str(CREDENTIALS),
    )


def test_secrets_redacted_even_if_oauth_loggers_forced_to_debug(
    x_api: FakeXApi, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    x = publisher(x_api, clock)
    caplog.set_level(logging.DEBUG)
    for name in ("oauthlib", "requests_oauthlib"):
        caplog.set_level(logging.DEBUG, logger=name)
    x_api.script(x_api.responses.created())
    x.publish(POST)
    oauth_records = [r for r in caplog.records if r.name.startswith("requests_oauthlib")]
    assert any(REDACTED in r.getMessage() for r in oauth_records)  # the header was there
    _assert_no_secret(caplog.text, *(r.getMessage() for r in caplog.records))


def test_credentials_from_env() -> None:
    assert XCredentials.from_env({}) is None
    env = {
        "CHRONICLE_X_CONSUMER_KEY": "a",
        "CHRONICLE_X_CONSUMER_SECRET": "b",
        "CHRONICLE_X_ACCESS_TOKEN": "c",
        "CHRONICLE_X_ACCESS_TOKEN_SECRET": "d",
    }
    assert XCredentials.from_env(env) == XCredentials("a", "b", "c", "d")
    assert repr(XCredentials.from_env(env)) == "XCredentials()"
    partial = {"CHRONICLE_X_CONSUMER_KEY": "visible-key", "CHRONICLE_X_ACCESS_TOKEN": " "}
    with pytest.raises(IncompleteXCredentials) as caught:
        XCredentials.from_env(partial)
    message = str(caught.value)
    assert "CHRONICLE_X_CONSUMER_SECRET" in message
    assert "CHRONICLE_X_ACCESS_TOKEN," in message
    assert "CHRONICLE_X_ACCESS_TOKEN_SECRET" in message
    assert "CHRONICLE_X_CONSUMER_KEY" not in message
    assert "visible-key" not in message
    assert XPublisher.from_env({}) is None


def test_preflight_asks_who_the_credentials_belong_to_and_posts_nothing(
        x_api: FakeXApi, replies: XResponses, clock: FakeClock) -> None:
    x_api.script(replies.me("ChronicleMnUs"))
    check = publisher(x_api, clock).preflight()
    assert (check.channel, check.ok, check.detail) == ("x", True, "authenticated as @ChronicleMnUs")
    assert [(r.method, r.path) for r in x_api.requests] == [("GET", "/2/users/me")]


def test_preflight_names_a_refused_credential_without_raising(
        x_api: FakeXApi, replies: XResponses, clock: FakeClock) -> None:
    x_api.script(replies.error("401_unauthorized"))
    check = publisher(x_api, clock).preflight()
    assert not check.ok and check.detail.startswith("X answered 401")
    assert CREDENTIALS.consumer_secret not in check.detail


def test_x_counts_weighted_up_to_280(x_api: FakeXApi, clock: FakeClock) -> None:
    limit = publisher(x_api, clock).text_limit()
    assert limit.max_length == 280
    assert limit.fits("蒙" * 140) and not limit.fits("蒙" * 141)
    assert not limit.fits("")  # X refuses an empty text
