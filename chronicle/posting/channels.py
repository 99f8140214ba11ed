"""Which channels to post to, and their publishers, from settings and the environment."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from typing import Any

from chronicle.config import ConfigError, Settings
from chronicle.posting.clock import Clock
from chronicle.publishers import OutboxPublisher, Publisher
from chronicle.publishers._retry import RetryPolicy
from chronicle.publishers.bluesky import APP_PASSWORD_ENV, HANDLE_ENV, BlueskyPublisher
from chronicle.publishers.mastodon import TOKEN_ENV, MastodonPublisher
from chronicle.publishers.x import XCredentials, XPublisher

OUTBOX, X, MASTODON, BLUESKY = "outbox", "x", "mastodon", "bluesky"


def channel_names(settings: Settings, environ: Mapping[str, str] | None = None) -> list[str]:
    """Configured channels; by default the outbox, plus X when its credentials are set."""
    if settings.posting.channels is not None:
        return list(dict.fromkeys(settings.posting.channels))
    env = os.environ if environ is None else environ
    names = [OUTBOX, X] if XCredentials.from_env(env) else [OUTBOX]
    if env.get(TOKEN_ENV, "").strip() and settings.posting.mastodon_base_url:
        names.append(MASTODON)
    if env.get(HANDLE_ENV, "").strip() and env.get(APP_PASSWORD_ENV, "").strip():
        names.append(BLUESKY)
    return names


def build_publishers(settings: Settings, clock: Clock, environ: Mapping[str, str] | None = None,
                     *, channels: list[str] | None = None,
                     x_options: Mapping[str, Any] | None = None) -> dict[str, Publisher]:
    """One publisher per channel. X credentials come from the environment only.

    `x_options` are passed on to XPublisher (tests shorten its back-off this way).
    """
    env = os.environ if environ is None else environ
    names = channels if channels is not None else channel_names(settings, env)
    publishers: dict[str, Publisher] = {}
    for name in names:
        if name == OUTBOX:
            path = settings.path(settings.posting.outbox_path)
            publishers[name] = OutboxPublisher(path, clock=clock.now)
        elif name == X:
            publishers[name] = _x_publisher(settings, clock, env, x_options or {})
        elif name in (MASTODON, BLUESKY):
            publishers[name] = _fediverse_publisher(name, settings, clock, env)
        else:
            raise ConfigError(f"posting.channels: unknown channel {name!r} "
                              "(use outbox, x, mastodon or bluesky)")
    return publishers


def _fediverse_publisher(name: str, settings: Settings, clock: Clock,
                         environ: Mapping[str, str]) -> Publisher:
    """Mastodon or Bluesky; waits longer than 2 minutes go back to the scheduler, as for X."""
    posting = settings.posting
    retry = RetryPolicy(clock=clock.now, max_wait=dt.timedelta(minutes=2))
    if name == MASTODON:
        mastodon = MastodonPublisher.from_env(
            environ, base_url=posting.mastodon_base_url, visibility=posting.mastodon_visibility,
            timeout=posting.mastodon_timeout_seconds, retry=retry)
        if mastodon is None:
            raise ConfigError("posting.channels lists mastodon: set posting.mastodon_base_url "
                              f"and {TOKEN_ENV}")
        return mastodon
    bluesky = BlueskyPublisher.from_env(environ, pds_url=posting.bluesky_pds_url,
                                        timeout=posting.bluesky_timeout_seconds, retry=retry)
    if bluesky is None:
        raise ConfigError(f"posting.channels lists bluesky: set {HANDLE_ENV} and "
                          f"{APP_PASSWORD_ENV}")
    return bluesky


def _x_publisher(settings: Settings, clock: Clock, environ: Mapping[str, str],
                 options: Mapping[str, Any]) -> XPublisher:
    credentials = XCredentials.from_env(environ)
    if credentials is None:
        names = ", ".join(XCredentials.ENV.values())
        raise ConfigError(f"posting.channels lists x, but X credentials are not set ({names})")
    posting = settings.posting
    timeout = posting.x_timeout_seconds
    defaults: dict[str, Any] = {
        "timeout": (min(5.0, timeout), timeout),
        "api_base_url": posting.x_api_base_url,
        "clock": clock.now,
        # Waiting long inside one attempt would hold the claim: give the wait back to the
        # scheduler (a Failed event with retry_at) instead.
        "max_wait": dt.timedelta(minutes=2),
    }
    return XPublisher(credentials, **{**defaults, **options})
