"""Warnings to the operator through Apprise, each sent once per cause.

Targets are Apprise URLs in ``CHRONICLE_ALERT_URLS`` (comma-separated, from the environment
only: they carry tokens), e.g. ``mailtos://…``, ``tgram://…``, ``json://host/path``. Apprise
stays behind :class:`Alerts`; nothing else imports it.

Once per cause, across restarts and replicas: an alert is first recorded in the log as
``OperatorAlertRaised`` in its own stream ``alert-<cause>`` with expected version 0, the same
fence the post claims use; only the writer that wins sends it. The delivery's outcome follows
(``OperatorAlertDelivered`` / ``OperatorAlertFailed``); a failed delivery is tried again by the
next pass that raises the same cause, up to ``MAX_DELIVERIES`` times.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import apprise

from chronicle.config import ConfigError
from chronicle.posting.clock import Clock
from chronicle.posting.events import (
    ALERT_DELIVERED,
    ALERT_FAILED,
    ALERT_RAISED,
    ALERT_STREAM_PREFIX,
)
from chronicle.store import ConcurrencyError, NewEvent, SqlEventStore

log = logging.getLogger(__name__)

ALERT_URLS_ENV = "CHRONICLE_ALERT_URLS"
RAISED, DELIVERED, FAILED = ALERT_RAISED, ALERT_DELIVERED, ALERT_FAILED
MAX_DELIVERIES = 3
_UNSAFE = re.compile(r"[^a-z0-9.-]+")


class AlertConfigError(ConfigError, ValueError):
    """A target in CHRONICLE_ALERT_URLS that Apprise does not know."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Alert:
    """One warning: ``cause`` names what it is about (the once-only key)."""

    cause: str
    title: str
    body: str


def alert_stream(cause: str) -> str:
    return ALERT_STREAM_PREFIX + _UNSAFE.sub("-", cause.lower()).strip("-")[:180]


class Alerts:
    """Sends alerts once per cause; without targets it only logs them."""

    def __init__(self, store: SqlEventStore, urls: Sequence[str], clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.urls = list(urls)
        self._apprise = apprise.Apprise()
        for index, url in enumerate(self.urls, start=1):
            if not self._apprise.add(url):
                scheme = url.split("://", 1)[0] if "://" in url else "(none)"
                raise AlertConfigError(f"{ALERT_URLS_ENV}: target {index} (scheme {scheme}) "
                                       "is not an Apprise URL")

    @classmethod
    def from_env(cls, store: SqlEventStore, clock: Clock,
                 environ: Mapping[str, str] | None = None) -> Alerts:
        env = os.environ if environ is None else environ
        urls = [u.strip() for u in env.get(ALERT_URLS_ENV, "").split(",") if u.strip()]
        return cls(store, urls, clock)

    def send(self, alert: Alert) -> bool:
        """Send `alert` unless its cause was sent already; True when this call delivered it."""
        if not self.urls:
            log.warning("alert (no %s set): %s: %s", ALERT_URLS_ENV, alert.title, alert.body)
            return False
        stream = alert_stream(alert.cause)
        history = self.store.read_stream(stream)
        failures = sum(1 for e in history if e.type == FAILED)
        if history and (history[-1].type != FAILED or failures >= MAX_DELIVERIES):
            return False
        now = self.clock.now().isoformat()
        try:
            if not history:
                raised = NewEvent(type=RAISED, payload={"cause": alert.cause, "title": alert.title,
                                                        "body": alert.body, "at": now})
                self.store.append(stream, [raised], expected_version=0)
                version = 1
            else:
                version = history[-1].stream_version
            delivered = bool(self._apprise.notify(title=alert.title, body=alert.body))
            outcome = DELIVERED if delivered else FAILED
            self.store.append(stream, [NewEvent(type=outcome, payload={
                "cause": alert.cause, "at": self.clock.now().isoformat()})],
                expected_version=version)
        except ConcurrencyError:
            return False  # another process raised (or retried) it
        if not delivered:
            log.warning("alert %s could not be delivered; the next pass tries again", alert.cause)
        return delivered
