"""BlueskyPublisher against a fake PDS on loopback that checks the atproto SDK's XRPC calls."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator

import pytest

from chronicle.cards import anniversary_image
from chronicle.publishers import OutgoingPost, PermanentPublishError, RateLimited
from chronicle.publishers._linkcard import LinkCard
from chronicle.publishers._retry import RetryPolicy
from chronicle.publishers.base import TransientPublishError
from chronicle.publishers.bluesky import (
    APP_PASSWORD_ENV,
    HANDLE_ENV,
    BlueskyPublisher,
    tid_for,
)
from tests.fake_bluesky_api import DID, TID, FakePds, Fault

HANDLE, PASSWORD = "chronicle.test", "abcd-efgh-ijkl-mnop"
START = dt.datetime(2027, 1, 27, 1, 0, tzinfo=dt.UTC)
LINK = "https://chronicle.example.org/milestones/diplomatic-relations-established"
TEXT = f"Today, January 27, we mark 40 years — Монгол ᠮᠣᠩᠭᠣᠯ 🇲🇳 {LINK}"
IMAGE = anniversary_image(title="Diplomatic relations established", years=40,
                          local_date=dt.date(2027, 1, 27), site_name="A chronicle")
POST = OutgoingPost(key="diplomatic-relations-established/2027/bluesky", channel="bluesky",
                    text=TEXT, milestone_ids=("diplomatic-relations-established",),
                    local_date=dt.date(2027, 1, 27), image=IMAGE)
RKEY = tid_for(POST.key, POST.local_date)
CREATE = "com.atproto.repo.createRecord"


class FakeClock:
    def __init__(self) -> None:
        self.current = START
        self.sleeps: list[float] = []

    def now(self) -> dt.datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += dt.timedelta(seconds=seconds)


@pytest.fixture
def pds() -> Iterator[FakePds]:
    with FakePds(HANDLE, PASSWORD) as server:
        yield server
        assert server.problems == []


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def publisher(pds: FakePds, clock: FakeClock, *, password: str = PASSWORD,
              cards: list[str] | None = None) -> BlueskyPublisher:
    def link_card(url: str) -> LinkCard:
        (cards if cards is not None else []).append(url)
        return LinkCard(url=url, title="Diplomatic relations", description="40 years",
                        image=IMAGE.png)

    retry = RetryPolicy(sleep=clock.sleep, clock=clock.now, jitter=random.Random(5).random)
    return BlueskyPublisher(HANDLE, password, pds_url=pds.base_url, timeout=2.0, retry=retry,
                            link_card=link_card)


def test_posts_text_link_facet_langs_and_the_card_with_alt(pds: FakePds,
                                                          clock: FakeClock) -> None:
    receipt = publisher(pds, clock).publish(POST)

    assert receipt.remote_id == f"at://{DID}/app.bsky.feed.post/{RKEY}"
    assert receipt.url == f"https://bsky.app/profile/{DID}/post/{RKEY}"
    assert not receipt.already_published
    record = pds.records[RKEY]
    assert record["text"] == TEXT
    assert record["langs"] == ["en"]
    (facet,) = record["facets"]
    start = len(TEXT[: TEXT.index(LINK)].encode())
    assert (facet["index"]["byteStart"], facet["index"]["byteEnd"]) == (start, start + len(LINK))
    assert facet["features"][0]["uri"] == LINK
    (image,) = record["embed"]["images"]
    assert image["alt"] == IMAGE.alt
    assert pds.blobs[image["image"]["ref"]["$link"]] == IMAGE.png
    assert (image["aspectRatio"]["width"], image["aspectRatio"]["height"]) == (1200, 630)
    (create,) = pds.calls(CREATE)
    sent = json.loads(create.body)
    assert sent["rkey"] == RKEY and sent["repo"] == DID
    assert create.headers["content-type"] == "application/json"
    assert pds.sessions_created == 1


def test_the_record_key_is_a_valid_tid_fixed_by_the_claim_key() -> None:
    assert TID.match(RKEY)
    assert tid_for(POST.key, POST.local_date) == RKEY
    assert tid_for("other/2027/bluesky", POST.local_date) != RKEY
    assert tid_for(POST.key, dt.date(2028, 1, 27)) != RKEY


def test_a_dropped_answer_is_retried_and_the_taken_key_counts_as_published(
        pds: FakePds, clock: FakeClock) -> None:
    pds.fail(CREATE, Fault(drop=True))
    receipt = publisher(pds, clock).publish(POST)

    assert list(pds.records) == [RKEY], "one record, never two"
    assert receipt.already_published
    assert receipt.remote_id == f"at://{DID}/app.bsky.feed.post/{RKEY}"
    assert len(pds.calls(CREATE)) == 1, "the lost answer is settled by reading the record"
    assert len(pds.calls("com.atproto.repo.getRecord")) == 1


def test_a_second_process_publishing_the_same_post_finds_it(pds: FakePds,
                                                           clock: FakeClock) -> None:
    publisher(pds, clock).publish(POST)
    again = publisher(pds, clock).publish(POST)
    assert again.already_published
    assert len(pds.records) == 1
    assert len(pds.calls(CREATE)) == 2, "the second createRecord met the taken key (500)"


def test_a_taken_key_with_another_text_is_permanent(pds: FakePds, clock: FakeClock) -> None:
    publisher(pds, clock).publish(POST)
    other = OutgoingPost(key=POST.key, channel="bluesky", text="a different text",
                         milestone_ids=POST.milestone_ids, local_date=POST.local_date)
    with pytest.raises(PermanentPublishError, match="another text"):
        publisher(pds, clock).publish(other)


def test_an_expired_access_token_is_refreshed_once(pds: FakePds, clock: FakeClock) -> None:
    channel = publisher(pds, clock)
    channel.preflight()
    pds.fail(CREATE, Fault(expire=True))
    receipt = channel.publish(POST)
    assert not receipt.already_published
    assert pds.refreshes == 1 and pds.sessions_created == 1
    assert len(pds.records) == 1


def test_503_is_retried_with_backoff(pds: FakePds, clock: FakeClock) -> None:
    pds.fail(CREATE, Fault(503), Fault(503))
    receipt = publisher(pds, clock).publish(POST)
    assert not receipt.already_published
    assert len(clock.sleeps) == 2
    assert len(pds.records) == 1


def test_503_until_the_attempts_run_out_is_transient(pds: FakePds, clock: FakeClock) -> None:
    pds.fail(CREATE, *[Fault(503)] * 5)
    with pytest.raises(TransientPublishError, match="gave up after 5 attempts"):
        publisher(pds, clock).publish(POST)
    assert pds.records == {}


def test_429_waits_for_ratelimit_reset(pds: FakePds, clock: FakeClock) -> None:
    pds.fail(CREATE, Fault(429, reset_in=30))
    publisher(pds, clock).publish(POST)
    (wait,) = clock.sleeps
    assert 25 <= wait <= 32, wait


def test_429_with_a_distant_reset_goes_back_to_the_scheduler(pds: FakePds,
                                                            clock: FakeClock) -> None:
    pds.fail(CREATE, Fault(429, reset_in=3600))
    with pytest.raises(RateLimited) as info:
        publisher(pds, clock).publish(POST)
    assert info.value.retry_at is not None
    assert dt.timedelta(minutes=59) < info.value.retry_at - START <= dt.timedelta(minutes=61)


def test_a_wrong_app_password_is_permanent_and_never_shown(pds: FakePds,
                                                          clock: FakeClock) -> None:
    with pytest.raises(PermanentPublishError, match="Invalid identifier or password") as info:
        publisher(pds, clock, password="wrong-pass-9").publish(POST)
    assert "wrong-pass-9" not in str(info.value)
    check = publisher(pds, clock, password="wrong-pass-9").preflight()
    assert not check.ok and "wrong handle or app password" in check.detail
    assert pds.records == {}


def test_preflight_creates_a_session_and_posts_nothing(pds: FakePds, clock: FakeClock) -> None:
    check = publisher(pds, clock).preflight()
    assert check.ok and check.channel == "bluesky"
    assert HANDLE in check.detail and DID in check.detail
    assert pds.records == {} and pds.blobs == {}


def test_without_an_image_the_link_becomes_an_external_card(pds: FakePds,
                                                           clock: FakeClock) -> None:
    cards: list[str] = []
    post = OutgoingPost(key="no-image/2027/bluesky", channel="bluesky", text=TEXT,
                        milestone_ids=("no-image",), local_date=POST.local_date, language="mn")
    publisher(pds, clock, cards=cards).publish(post)
    (record,) = pds.records.values()
    external = record["embed"]["external"]
    assert record["embed"]["$type"] == "app.bsky.embed.external"
    assert external["uri"] == LINK and external["title"] == "Diplomatic relations"
    assert pds.blobs[external["thumb"]["ref"]["$link"]] == IMAGE.png
    assert record["langs"] == ["mn"]
    assert cards == [LINK]


def test_a_long_link_is_shown_short_when_the_text_would_not_fit(pds: FakePds,
                                                               clock: FakeClock) -> None:
    long_link = "https://chronicle.example.org/milestones/" + "a" * 120
    text = "ᠮᠣᠩᠭᠣᠯ " + "ж" * 200 + " " + long_link
    post = OutgoingPost(key="long/2027/bluesky", channel="bluesky", text=text,
                        milestone_ids=("long",), local_date=POST.local_date)
    publisher(pds, clock).publish(post)
    (record,) = pds.records.values()
    assert long_link not in record["text"] and record["text"].endswith("…")
    assert record["facets"][0]["features"][0]["uri"] == long_link
    with pytest.raises(PermanentPublishError, match="graphemes"):
        publisher(pds, clock).publish(OutgoingPost(
            key="too-long/2027/bluesky", channel="bluesky", text="🇲🇳" * 301,
            milestone_ids=("x",), local_date=POST.local_date))


def test_from_env_needs_both_variables(pds: FakePds) -> None:
    assert BlueskyPublisher.from_env({HANDLE_ENV: HANDLE}) is None
    built = BlueskyPublisher.from_env({HANDLE_ENV: HANDLE, APP_PASSWORD_ENV: PASSWORD},
                                      pds_url=pds.base_url)
    assert isinstance(built, BlueskyPublisher) and PASSWORD not in repr(built)
