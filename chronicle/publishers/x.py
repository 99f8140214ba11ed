"""Posting to X with tweepy (API v2 ``POST /2/tweets``, OAuth 1.0a user context).

How X's answers map onto the publisher interface:

- 201: the post id and its URL ``https://x.com/i/web/status/<id>`` (extra keys tolerated).
- 403 "You are not allowed to create a Tweet with duplicate content.": X already has this
  text, so an earlier attempt got through (e.g. a timeout after X had accepted it):
  ``Receipt(already_published=True, remote_id=None)``. v2 carries no code, only the message.
- 429: wait for the reset X reports (``x-rate-limit-reset``, or the 24-hour cap's reset when
  ``x-user-limit-24hour-remaining``/``x-app-limit-24hour-remaining`` is 0) if that is within
  ``max_wait``, else :class:`RateLimited` with ``retry_at``.
- 5xx, timeouts and network errors: retried with capped exponential backoff and full jitter.
- 400, 401, 403 (other), 404: :class:`PermanentPublishError` with X's message.

``preflight`` asks ``GET /2/users/me`` (read-only) whether the credentials still work;
``text_limit`` is X's weighted length and 280 (see ``xtext``).

Credentials never reach a log record, an exception message or a repr: see ``_logsafe``.
"""

from __future__ import annotations

import datetime
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import requests
import tweepy

from chronicle.publishers._http import Timeout, XTransport
from chronicle.publishers._logsafe import protect_secrets
from chronicle.publishers._retry import RetryPolicy
from chronicle.publishers.base import (
    ChannelCheck,
    OutgoingPost,
    PermanentPublishError,
    RateLimited,
    Receipt,
    TextLimit,
    TransientPublishError,
)
from chronicle.publishers.xtext import X_MAX_WEIGHT, X_TEXT_LIMIT, weighted_length
from chronicle.redaction import redact

__all__ = ["IncompleteXCredentials", "XCredentials", "XPublisher"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime.datetime]
Sleep = Callable[[float], None]
DUPLICATE_MESSAGE = "duplicate content"
UNKNOWN_RESET_WAIT = datetime.timedelta(minutes=15)  # X's rate-limit window
_TRANSIENT_NETWORK = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    requests.JSONDecodeError,
)


class IncompleteXCredentials(ValueError):
    """Some but not all of the X credential variables are set."""


@dataclass(frozen=True, slots=True)
class XCredentials:
    """OAuth 1.0a user-context keys; never shown by repr or str."""

    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    access_token_secret: str = field(repr=False)

    ENV: ClassVar[Mapping[str, str]] = {
        "consumer_key": "CHRONICLE_X_CONSUMER_KEY",
        "consumer_secret": "CHRONICLE_X_CONSUMER_SECRET",
        "access_token": "CHRONICLE_X_ACCESS_TOKEN",
        "access_token_secret": "CHRONICLE_X_ACCESS_TOKEN_SECRET",
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> XCredentials | None:
        """Credentials from the environment; None when X is not configured at all."""
        values = {name: environ.get(var, "").strip() for name, var in cls.ENV.items()}
        missing = [cls.ENV[name] for name, value in values.items() if not value]
        if len(missing) == len(cls.ENV):
            return None
        if missing:
            raise IncompleteXCredentials(
                f"X credentials incomplete: {', '.join(missing)} not set "
                "(set all four CHRONICLE_X_* variables, or none to disable X)"
            )
        return cls(**values)

    def secrets(self) -> tuple[str, ...]:
        return (
            self.consumer_key,
            self.consumer_secret,
            self.access_token,
            self.access_token_secret,
        )


def _epoch(value: str | None) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromtimestamp(int(str(value).strip()), datetime.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def rate_limit_reset(headers: Mapping[str, str]) -> datetime.datetime | None:
    """When X will take posts again: an exhausted 24-hour cap wins over the 15-minute window."""
    capped = [
        _epoch(headers.get(f"x-{who}-limit-24hour-reset"))
        for who in ("user", "app")
        if str(headers.get(f"x-{who}-limit-24hour-remaining", "")).strip() == "0"
    ]
    resets = [reset for reset in capped if reset is not None]
    return max(resets) if resets else _epoch(headers.get("x-rate-limit-reset"))


def _describe(exc: tweepy.HTTPException) -> str:
    """X's status and messages, redacted: a proxy or a fake X may echo the request's headers."""
    response = exc.response
    messages = "; ".join(str(m) for m in exc.api_messages) or "no message"
    return redact(f"X answered {response.status_code} {response.reason}: {messages}")


def _is_duplicate(exc: tweepy.Forbidden) -> bool:
    return any(DUPLICATE_MESSAGE in str(m).lower() for m in exc.api_messages)


class XPublisher:
    """Publishes posts to X; see the module docstring for the error policy."""

    name = "x"

    def __init__(
        self,
        credentials: XCredentials,
        *,
        timeout: Timeout = (5.0, 30.0),
        max_attempts: int = 5,
        max_wait: datetime.timedelta = datetime.timedelta(minutes=15),
        backoff_base: float = 2.0,
        backoff_cap: float = 60.0,
        reset_margin: float = 1.0,
        api_base_url: str | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        protect_secrets(credentials.secrets())
        self._client = tweepy.Client(
            consumer_key=credentials.consumer_key,
            consumer_secret=credentials.consumer_secret,
            access_token=credentials.access_token,
            access_token_secret=credentials.access_token_secret,
            return_type=dict,
        )
        transport = XTransport(timeout=timeout, api_base_url=api_base_url)
        self._client.session.mount("https://", transport)
        self._client.session.mount("http://", transport)
        self.retry = RetryPolicy(
            max_attempts=max_attempts, max_wait=max_wait, backoff_base=backoff_base,
            backoff_cap=backoff_cap, reset_margin=reset_margin, sleep=sleep,
            clock=clock or (lambda: datetime.datetime.now(datetime.UTC)), jitter=jitter)

    def __repr__(self) -> str:
        return f"XPublisher(max_attempts={self.max_attempts}, max_wait={self.max_wait})"

    @property
    def max_attempts(self) -> int:
        return self.retry.max_attempts

    @property
    def max_wait(self) -> datetime.timedelta:
        return self.retry.max_wait

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **options: Any) -> XPublisher | None:
        """An X publisher when the CHRONICLE_X_* variables are set, else None."""
        credentials = XCredentials.from_env(environ)
        return cls(credentials, **options) if credentials else None

    def text_limit(self) -> TextLimit:
        return X_TEXT_LIMIT

    def preflight(self) -> ChannelCheck:
        """Who the credentials belong to (``GET /2/users/me``); posts nothing."""
        try:
            body = self._client.get_me(user_auth=True)
        except tweepy.HTTPException as exc:
            return ChannelCheck(channel=self.name, ok=False, detail=_describe(exc))
        except requests.RequestException as exc:
            return ChannelCheck(channel=self.name, ok=False,
                                detail=f"cannot reach X: {type(exc).__name__}")
        data = body.get("data") if isinstance(body, dict) else None
        username = data.get("username") if isinstance(data, dict) else None
        if not isinstance(username, str) or not username:
            return ChannelCheck(channel=self.name, ok=False,
                                detail="X answered /2/users/me without a username")
        return ChannelCheck(channel=self.name, ok=True, detail=f"authenticated as @{username}")

    def publish(self, post: OutgoingPost) -> Receipt:
        """Post ``post.text`` once, retrying only what X or the network may fix."""
        weight = weighted_length(post.text)
        if weight > X_MAX_WEIGHT:
            raise PermanentPublishError(f"{post.key}: text weighs {weight} > {X_MAX_WEIGHT}")
        outcome = self.retry.run(f"X post {post.key}", lambda: self._attempt(post),
                                 subject=post.key)
        return outcome if isinstance(outcome, Receipt) else self._receipt(post, outcome)

    def _attempt(self, post: OutgoingPost) -> Receipt | object:
        """One request: X's answer, a receipt for a duplicate, or the error as a publish error
        (transient ones are retried by the policy, rate limits until X's reset)."""
        try:
            answer: object = self._client.create_tweet(text=post.text, user_auth=True)
        except tweepy.TooManyRequests as exc:
            raise self._rate_limited(exc) from None
        except tweepy.Forbidden as exc:
            if _is_duplicate(exc):
                log.info("X post %s: X already has this text (duplicate content)", post.key)
                return Receipt(remote_id=None, url=None, already_published=True)
            raise PermanentPublishError(f"{post.key}: {_describe(exc)}") from None
        except tweepy.TwitterServerError as exc:
            raise TransientPublishError(_describe(exc)) from None
        except tweepy.HTTPException as exc:
            raise PermanentPublishError(f"{post.key}: {_describe(exc)}") from None
        except _TRANSIENT_NETWORK as exc:
            raise TransientPublishError(
                f"network error talking to X: {type(exc).__name__}") from None
        except requests.RequestException as exc:
            raise PermanentPublishError(
                f"{post.key}: {type(exc).__name__}: {redact(str(exc))}") from None
        return answer

    def _receipt(self, post: OutgoingPost, body: object) -> Receipt:
        data = body.get("data") if isinstance(body, dict) else None
        post_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(post_id, str) or not post_id.isdigit():
            # X took the request but the answer is unusable; a retry meets "duplicate content".
            raise TransientPublishError(f"{post.key}: X answered without a post id")
        log.info("X post %s published as %s", post.key, post_id)
        return Receipt(remote_id=post_id, url=f"https://x.com/i/web/status/{post_id}")

    def _rate_limited(self, exc: tweepy.TooManyRequests) -> RateLimited:
        """X's 429 rules: wait for the reset X reports, or its window when it reports none."""
        retry_at = rate_limit_reset(exc.response.headers) or self.retry.clock() + UNKNOWN_RESET_WAIT
        return RateLimited(f"X rate limit reached until {retry_at.isoformat()}", retry_at=retry_at)
