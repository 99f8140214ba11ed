"""Posting to a Mastodon instance with Mastodon.py (``POST /api/v1/statuses``, bearer token).

Exactly once: the claim key is sent as the ``Idempotency-Key`` header. Mastodon stores the key
(per account, for one hour) once the status exists, and answers a repeat with the original
status (200) without creating anything: a retry after a crash between sending and recording
gets the first post back, whose id the service then records at once. Because the instance
forgets keys after an hour, each publish first looks at the account's recent statuses for one
linking the same page since the day before (see ``_earlier``). The card image is
uploaded first (``POST /api/v2/media``, multipart, with the alt text as ``description``); a
retry uploads it again, and the unattached copy is removed by the instance.

How the answers map onto the publisher interface:

- 200: the status id and its URL.
- 429: wait for ``X-RateLimit-Reset`` (an ISO 8601 time) if within ``max_wait``, else
  :class:`RateLimited` with ``retry_at``.
- 5xx (503 also while a concurrent request holds the same key), timeouts and network errors:
  retried with backoff.
- 401, 403, 422 (too long, unprocessable) and other 4xx: :class:`PermanentPublishError`.

Length: the instance's own limit from ``/api/v2/instance`` (``max_characters``,
``characters_reserved_per_url``), counted in graphemes with every URL at its reserved length.
The token never reaches a log record or an exception message (see ``_logsafe``).
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from chronicle.publishers._logsafe import protect_secrets
from chronicle.publishers._retry import RetryPolicy
from chronicle.publishers._text import mastodon_length, urls_with_spans
from chronicle.publishers.base import (
    ChannelCheck,
    OutgoingPost,
    PermanentPublishError,
    RateLimited,
    Receipt,
    TextLimit,
    TransientPublishError,
)

__all__ = ["TOKEN_ENV", "MastodonPublisher"]

log = logging.getLogger(__name__)

TOKEN_ENV = "CHRONICLE_MASTODON_ACCESS_TOKEN"
DEFAULT_MAX_CHARACTERS = 500
DEFAULT_URL_CHARS = 23
UNKNOWN_RESET_WAIT = dt.timedelta(minutes=5)  # Mastodon's per-account API window
# Mastodon.py checks endpoint versions against this instead of asking the instance first.
ASSUMED_VERSION = "4.0.0"
RECENT_STATUSES = 40  # how far back a retry looks for its own earlier status

T = TypeVar("T")


def _describe(exc: MastodonError) -> str:
    """The instance's status and message; Mastodon.py's errors carry no token."""
    if isinstance(exc, MastodonAPIError) and len(exc.args) >= 4:
        _, status, reason, message = exc.args[:4]
        return f"Mastodon answered {status} {reason}: {message or 'no message'}"
    return f"{type(exc).__name__}: {exc}"


class MastodonPublisher:
    """Publishes posts (with their card image) to one Mastodon account."""

    name = "mastodon"

    def __init__(
        self,
        access_token: str,
        *,
        base_url: str,
        visibility: str = "public",
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not access_token.strip():
            raise ValueError(f"{TOKEN_ENV} is empty")
        protect_secrets([access_token])
        self.base_url = base_url.rstrip("/")
        self.visibility = visibility
        self.retry = retry or RetryPolicy()
        self._api = Mastodon(
            access_token=access_token,
            api_base_url=self.base_url,
            request_timeout=timeout,
            ratelimit_method="throw",  # waiting is ours to decide, against the claim's lease
            version_check_mode="created",
            mastodon_version=ASSUMED_VERSION,
        )
        self._limit: TextLimit | None = None
        self._me: Any = None

    def __repr__(self) -> str:
        return f"MastodonPublisher({self.base_url!r}, visibility={self.visibility!r})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, base_url: str | None, **options: Any
                 ) -> MastodonPublisher | None:
        """A publisher when both the instance URL and the token are set, else None."""
        token = environ.get(TOKEN_ENV, "").strip()
        if not token or not base_url:
            return None
        return cls(token, base_url=base_url, **options)

    # -- the contract -------------------------------------------------------------------

    def text_limit(self) -> TextLimit:
        """The instance's limit (read once from ``/api/v2/instance``), counted as Mastodon does.

        An instance that cannot be reached is counted with Mastodon's defaults (500, URLs 23),
        not remembered: `rehearse` and `queue` work offline, and `preflight` says it is down.
        """
        if self._limit is None:
            try:
                self._limit = self._read_limit()
            except TransientPublishError as exc:
                log.warning("Mastodon limits unavailable (%s): counting with the defaults", exc)
                return _counted(DEFAULT_MAX_CHARACTERS, DEFAULT_URL_CHARS)
        return self._limit

    def preflight(self) -> ChannelCheck:
        """Read-only: the token (``verify_credentials``) and the instance's limits."""
        try:
            account = self._account()
            limit = self._limit = self._limit or self._read_limit()
        except (PermanentPublishError, TransientPublishError) as exc:
            return ChannelCheck(channel=self.name, ok=False, detail=str(exc))
        url_chars = limit.measure("https://example.org/")
        return ChannelCheck(channel=self.name, ok=True,
                            detail=f"@{account.get('acct')} on {self.base_url}; "
                                   f"{limit.max_length} characters, URLs count {url_chars}")

    def publish(self, post: OutgoingPost) -> Receipt:
        """Upload the card (if any), then post the status under the claim's key."""
        limit = self.text_limit()
        length = limit.measure(post.text)
        if length > limit.max_length:
            raise PermanentPublishError(
                f"{post.key}: text is {length} characters > {limit.max_length} on {self.base_url}")
        earlier = self.retry.run(f"Mastodon check for {post.key}", lambda: self._earlier(post))
        if earlier is not None:
            return earlier
        media_ids: list[Any] | None = None
        if post.image is not None:
            image = post.image
            media = self.retry.run(f"Mastodon media for {post.key}", lambda: self._call(
                self._api.media_post, image.png, mime_type="image/png",
                description=image.alt, file_name="card.png"))
            media_ids = [media["id"]]
        status = self.retry.run(f"Mastodon post {post.key}", lambda: self._call(
            self._api.status_post, post.text, media_ids=media_ids, visibility=self.visibility,
            language=post.language, idempotency_key=post.key))
        status_id = str(status.get("id") or "")
        if not status_id:
            raise TransientPublishError(f"{post.key}: Mastodon answered without a status id")
        log.info("Mastodon post %s published as %s", post.key, status_id)
        return Receipt(remote_id=status_id, url=status.get("url"))

    def _earlier(self, post: OutgoingPost) -> Receipt | None:
        """Our own recent status linking the same page: a post whose key the instance forgot.

        Mastodon keeps an Idempotency-Key for one hour; a retry after a longer outage (inside
        the grace window) would otherwise post twice. A status of this account created since
        the day before the post's date whose links include the post's last link is taken as
        this post. Yearly posts of one milestone are a year apart, so they never match.
        """
        links = [url for url, _start, _end in urls_with_spans(post.text)]
        if not links:
            return None
        href = f'href="{html.escape(links[-1], quote=True)}"'
        since = post.local_date - dt.timedelta(days=1)
        account = self._account()
        statuses = self._call(self._api.account_statuses, account["id"], exclude_reblogs=True,
                              exclude_replies=True, limit=RECENT_STATUSES)
        for status in statuses:
            created = status.get("created_at")
            if isinstance(created, dt.datetime) and created.date() < since:
                continue
            if href in str(status.get("content") or ""):
                log.info("Mastodon post %s: status %s already links %s", post.key,
                         status.get("id"), links[-1])
                return Receipt(remote_id=str(status.get("id")), url=status.get("url"),
                               already_published=True)
        return None

    def _account(self) -> Any:
        if self._me is None:
            self._me = self._call(self._api.account_verify_credentials)
        return self._me

    # -- one request --------------------------------------------------------------------

    def _read_limit(self) -> TextLimit:
        instance = self._call(self._api.instance_v2)
        statuses = (instance.get("configuration") or {}).get("statuses") or {}
        max_chars = int(statuses.get("max_characters") or DEFAULT_MAX_CHARACTERS)
        url_chars = int(statuses.get("characters_reserved_per_url") or DEFAULT_URL_CHARS)
        return _counted(max_chars, url_chars)

    def _call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """One Mastodon.py call, its errors turned into the publisher's errors."""
        try:
            return method(*args, **kwargs)
        except MastodonRatelimitError:
            raise self._rate_limited() from None
        except MastodonUnauthorizedError as exc:
            raise PermanentPublishError(_describe(exc)) from None
        except MastodonServerError as exc:
            raise TransientPublishError(_describe(exc)) from None
        except MastodonNetworkError as exc:
            raise TransientPublishError(f"network error talking to Mastodon: {exc}") from None
        except MastodonError as exc:  # 403, 404, 422 and the rest: the same request fails again
            raise PermanentPublishError(_describe(exc)) from None

    def _rate_limited(self) -> RateLimited:
        """When the instance takes requests again: its X-RateLimit-Reset, on our clock."""
        now = self.retry.clock()
        reset = self._api.ratelimit_reset  # epoch seconds, already corrected by the Date header
        if isinstance(reset, int | float) and reset > time.time():
            retry_at = now + dt.timedelta(seconds=reset - time.time())
        else:
            retry_at = now + UNKNOWN_RESET_WAIT
        return RateLimited(f"Mastodon rate limit reached until {retry_at.isoformat()}",
                           retry_at=retry_at)


def _counted(max_chars: int, url_chars: int) -> TextLimit:
    """Mastodon's way of counting: graphemes, every URL as `url_chars`."""
    return TextLimit(max_length=max_chars,
                     measure=lambda text: mastodon_length(text, url_chars=url_chars))
