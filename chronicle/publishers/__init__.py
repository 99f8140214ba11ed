"""Channel publishers behind one small interface (see :mod:`chronicle.publishers.base`)."""

from chronicle.publishers.base import (
    OutgoingPost,
    PermanentPublishError,
    Publisher,
    PublishError,
    RateLimited,
    Receipt,
    TransientPublishError,
)
from chronicle.publishers.outbox import OutboxPublisher

__all__ = [
    "OutboxPublisher",
    "OutgoingPost",
    "PermanentPublishError",
    "PublishError",
    "Publisher",
    "RateLimited",
    "Receipt",
    "TransientPublishError",
]
