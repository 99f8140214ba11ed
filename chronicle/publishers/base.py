"""What every channel publisher takes, returns and raises.

The scheduler decides *when* and claims *once*; a publisher only delivers one post to one
channel and reports honestly whether the channel already had it, so a retry after a crash
never posts twice.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

__all__ = [
    "ChannelCheck",
    "OutgoingPost",
    "PermanentPublishError",
    "PostImage",
    "PublishError",
    "Publisher",
    "RateLimited",
    "Receipt",
    "TextLimit",
    "TransientPublishError",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class PostImage:
    """The card image of a post: PNG bytes and the alt text a screen reader reads."""

    png: bytes
    alt: str


@dataclass(frozen=True, kw_only=True, slots=True)
class TextLimit:
    """How a channel counts a text (X: weighted; Mastodon: URLs fixed; Bluesky: graphemes)."""

    max_length: int
    measure: Callable[[str], int]

    def fits(self, text: str) -> bool:
        return self.measure(text) <= self.max_length


@dataclass(frozen=True, kw_only=True, slots=True)
class ChannelCheck:
    """A preflight's verdict on one channel: credentials, limits, reachability."""

    channel: str
    ok: bool
    detail: str


@dataclass(frozen=True, kw_only=True, slots=True)
class OutgoingPost:
    """One text for one channel; ``key`` is the idempotency key shared by every retry."""

    key: str
    channel: str
    text: str
    milestone_ids: tuple[str, ...]
    local_date: datetime.date
    language: str = "en"
    image: PostImage | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Receipt:
    """Where the post landed; ``already_published`` when the channel said it had it already."""

    remote_id: str | None
    url: str | None
    already_published: bool = False


@runtime_checkable
class Publisher(Protocol):
    """A channel: delivers a post or raises a :class:`PublishError`."""

    name: str

    def publish(self, post: OutgoingPost) -> Receipt: ...


class PublishError(Exception):
    """Delivery failed; ``permanent`` says whether retrying can help, ``retry_at`` when."""

    permanent: ClassVar[bool] = False

    def __init__(self, message: str, *, retry_at: datetime.datetime | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class PermanentPublishError(PublishError):
    """Retrying the same post will fail again (bad credentials, forbidden content)."""

    permanent = True


class TransientPublishError(PublishError):
    """The channel may accept the post later (server errors, network, timeouts)."""

    permanent = False


class RateLimited(TransientPublishError):
    """The channel refuses more posts until ``retry_at``."""

    def __init__(self, message: str, *, retry_at: datetime.datetime | None) -> None:
        super().__init__(message, retry_at=retry_at)
