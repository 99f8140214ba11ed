"""WebSub publishing: tell the hub when a feed's bytes change, once per change.

The feeds carry `<link rel="hub">` and `rel="self"` (chronicle.feeds adds them when
`feed.hub_url` is set); this module sends the hub the publish notification
(`hub.mode=publish&hub.url=<feed url>`, W3C WebSub §7 and the PubSubHubbub 0.4 convention
most hubs follow) from a background thread, retrying 5xx answers and network errors with
exponential backoff.

"Once per change": a feed's SHA-256 is remembered when its ping is queued, so the same bytes
are never announced twice. With a state file the digests survive restarts (a change made
while the service was down is announced when it comes back, an unchanged feed is not) and
are claimed under an exclusive lock, so several worker processes do not announce the same
change each. A ping that finally fails is un-claimed so that the next start retries it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from chronicle import retrying
from chronicle.config import Settings
from chronicle.feeds.model import Document
from chronicle.files import atomic_write, locked

log = logging.getLogger(__name__)
FEED_TYPES = ("application/atom+xml", "application/rss+xml", "application/feed+json")
STATE_FILE = ".websub-state.json"


def announced(document: Document) -> bool:
    """Feeds people subscribe to: not RFC 5005 archive pages, which nobody subscribes to."""
    return (document.media_type.split(";")[0] in FEED_TYPES
            and not document.path.startswith("/feeds/archive/"))


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, slots=True)
class Ping:
    url: str
    digest: str
    previous: str | None


class DigestState:
    """Feed URL → digest last announced; in memory, or in a JSON file shared under a lock."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory: dict[str, str] = {}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, str]]:
        if self.path is None:
            yield self._memory
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with locked(self.path.with_suffix(".lock")):
            data = self._read()
            before = dict(data)
            yield data
            if data != before:
                self._write(data)

    def _read(self) -> dict[str, str]:
        assert self.path is not None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}

    def _write(self, data: dict[str, str]) -> None:
        assert self.path is not None
        atomic_write(self.path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())

    def claim(self, digests: dict[str, str]) -> list[Ping]:
        """The URLs whose digest differs from the last one announced, now claimed."""
        with self._locked() as data:
            pings = [Ping(url, new, data.get(url)) for url, new in sorted(digests.items())
                     if data.get(url) != new]
            data.update({p.url: p.digest for p in pings})
        return pings

    def release(self, ping: Ping) -> None:
        """Give a failed claim back, unless a newer change has been claimed since."""
        with self._locked() as data:
            if data.get(ping.url) == ping.digest:
                if ping.previous is None:
                    data.pop(ping.url, None)
                else:
                    data[ping.url] = ping.previous


class _HubBusy(Exception):
    """The hub may take the ping later: a network error, a 5xx or a 429."""


class HubPinger:
    """Announces changed feeds to one hub from a daemon thread."""

    def __init__(self, hub_url: str, base_url: str, *, state_path: Path | None = None,
                 attempts: int = 6, backoff: float = 0.5, max_backoff: float = 30.0,
                 timeout: float = 10.0, client: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.hub_url, self.base_url = hub_url, base_url.rstrip("/")
        self.state = DigestState(state_path)
        self.attempts, self.backoff, self.max_backoff = attempts, backoff, max_backoff
        self.client = client or httpx.Client(timeout=timeout, headers={
            "user-agent": "Chronicle WebSub publisher"})
        self.sleep = sleep
        self.sent: list[str] = []          # URLs announced successfully, in order
        self._queue: queue.Queue[Ping | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: Settings) -> HubPinger:
        assert settings.feed.hub_url, "only built when feed.hub_url is configured"
        state = settings.path(settings.export_dir) / STATE_FILE
        return cls(settings.feed.hub_url, settings.feed.base_url, state_path=state)

    def observe(self, documents: Iterable[Document]) -> list[str]:
        """Queue a ping for every announced feed whose bytes changed; returns their URLs."""
        digests = {f"{self.base_url}{d.path}": digest(d.body) for d in documents if announced(d)}
        with self._lock:
            pings = self.state.claim(digests)
            for ping in pings:
                self._queue.put(ping)
            if pings:
                self._start()
        return [p.url for p in pings]

    def publish(self, url: str) -> bool:
        """One publish notification with retries; True when the hub accepted it (2xx)."""
        retrier = retrying.policy(
            retry=retrying.retry_if_error(lambda exc: isinstance(exc, _HubBusy)),
            stop=retrying.give_up_after(self.attempts),
            wait=retrying.exponential(self.backoff, self.max_backoff), sleep=self.sleep,
            on_retry=lambda state: log.info(
                "hub ping for %s failed (%s); retrying in %.1f s", url,
                retrying.failure(state), state.next_action.sleep if state.next_action else 0.0),
            on_give_up=lambda _state: self._gave_up(url))
        return bool(retrier(self._ping, url))

    def _gave_up(self, url: str) -> bool:
        log.error("gave up telling the hub about %s after %d attempts", url, self.attempts)
        return False

    def _ping(self, url: str) -> bool:
        """One request: True when accepted, False when refused for good, _HubBusy to retry."""
        try:
            response = self.client.post(self.hub_url, data={"hub.mode": "publish",
                                                            "hub.url": url})
        except httpx.HTTPError as exc:
            raise _HubBusy(f"{type(exc).__name__}: {exc}") from exc
        if response.is_success:
            log.info("told the hub %s that %s changed", self.hub_url, url)
            return True
        problem = f"HTTP {response.status_code}"
        if response.status_code < 500 and response.status_code != 429:
            log.warning("the hub refused the ping for %s: %s %s", url, problem,
                        response.text[:200])
            return False
        raise _HubBusy(problem)

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="chronicle-websub",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            ping = self._queue.get()
            try:
                if ping is None:
                    return
                if self.publish(ping.url):
                    self.sent.append(ping.url)
                else:
                    self.state.release(ping)
            finally:
                self._queue.task_done()

    def join(self) -> None:
        """Wait until every queued ping was sent or given up (tests, shutdown)."""
        self._queue.join()

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=5)
        self.client.close()
