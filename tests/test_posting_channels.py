"""Which channels are on: mastodon and bluesky join when their settings and secrets are set."""

from __future__ import annotations

import pytest

from chronicle.config import ConfigError, Settings
from chronicle.posting.channels import build_publishers, channel_names
from chronicle.posting.clock import SystemClock
from chronicle.publishers.bluesky import BlueskyPublisher
from chronicle.publishers.mastodon import MastodonPublisher

MASTODON = {"CHRONICLE_MASTODON_ACCESS_TOKEN": "tok"}
BLUESKY = {"CHRONICLE_BLUESKY_HANDLE": "a.test", "CHRONICLE_BLUESKY_APP_PASSWORD": "pw"}


def test_each_channel_is_on_when_configured() -> None:
    plain = Settings(posting={})
    with_url = Settings(posting={"mastodon_base_url": "http://127.0.0.1:9"})
    assert channel_names(plain, {}) == ["outbox"]
    assert channel_names(plain, MASTODON) == ["outbox"], "the instance URL is needed too"
    assert channel_names(with_url, MASTODON | BLUESKY) == ["outbox", "mastodon", "bluesky"]
    publishers = build_publishers(with_url, SystemClock(), MASTODON | BLUESKY)
    assert isinstance(publishers["mastodon"], MastodonPublisher)
    assert isinstance(publishers["bluesky"], BlueskyPublisher)


def test_a_listed_channel_without_its_secrets_names_what_to_set() -> None:
    settings = Settings(posting={"channels": ["outbox", "bluesky"]})
    with pytest.raises(ConfigError, match="CHRONICLE_BLUESKY_HANDLE"):
        build_publishers(settings, SystemClock(), {})
    settings = Settings(posting={"channels": ["mastodon"]})
    with pytest.raises(ConfigError, match="mastodon_base_url"):
        build_publishers(settings, SystemClock(), MASTODON)
