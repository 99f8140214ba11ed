"""Channel publishers behind one small interface (see :mod:`chronicle.publishers.base`)."""

from chronicle.publishers.base import (
    ChannelCheck,
    OutgoingPost,
    PermanentPublishError,
    Publisher,
    PublishError,
    RateLimited,
    Receipt,
    TextLimit,
    TransientPublishError,
)
from chronicle.publishers.outbox import OutboxPublisher

__all__ = [
    "ChannelCheck",
    "OutboxPublisher",
    "OutgoingPost",
    "PermanentPublishError",
    "PublishError",
    "Publisher",
    "RateLimited",
    "Receipt",
    "TextLimit",
    "TransientPublishError",
]
