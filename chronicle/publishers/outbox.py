"""A channel that is a file: one JSON line per post, safe to share between processes.

Used where no network channel is configured, and by anything downstream that tails the file.
Each publish takes an exclusive ``fcntl.flock`` on the file, looks for the post's key, and
appends only if it is absent, then flushes and fsyncs before answering. A retry after a crash
therefore finds its own line and reports ``already_published`` instead of writing a second one.
A torn last line (a crash mid-write) is ignored when reading and never glued to the next record.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from chronicle.files import fsync_dir, locked
from chronicle.publishers.base import ChannelCheck, OutgoingPost, Receipt, TextLimit

__all__ = ["OUTBOX_MAX_LENGTH", "OutboxPublisher"]

OUTBOX_MAX_LENGTH = 100_000
"""A file takes any text; the bound only keeps one runaway post from bloating it."""

Clock = Callable[[], datetime.datetime]


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _records(handle: BinaryIO) -> Iterator[dict[str, object]]:
    """Every well-formed record in the file; a torn line is skipped, not fatal."""
    handle.seek(0)
    for raw in handle:
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if isinstance(record, dict):
            yield record


def _ends_with_newline(handle: BinaryIO) -> bool:
    size = handle.seek(0, os.SEEK_END)
    if size == 0:
        return True
    handle.seek(size - 1)
    return handle.read(1) == b"\n"


class OutboxPublisher:
    """Appends posts to a JSON-lines file, once per idempotency key."""

    def __init__(self, path: Path, *, name: str = "outbox", clock: Clock = _utc_now) -> None:
        self.path = Path(path)
        self.name = name
        self._clock = clock

    def __repr__(self) -> str:
        return f"OutboxPublisher({str(self.path)!r})"

    def text_limit(self) -> TextLimit:
        """Characters, with a bound no real post reaches."""
        return TextLimit(max_length=OUTBOX_MAX_LENGTH, measure=len)

    def preflight(self) -> ChannelCheck:
        """Ready unless the file (or its nearest existing folder) cannot be written."""
        existing = self.path if self.path.exists() else next(
            (p for p in self.path.parents if p.exists()), Path("/"))
        if not os.access(existing, os.W_OK):
            return ChannelCheck(channel=self.name, ok=False,
                                detail=f"{existing} is not writable (outbox file {self.path})")
        return ChannelCheck(channel=self.name, ok=True, detail=f"appends to {self.path}")

    def publish(self, post: OutgoingPost) -> Receipt:
        """Append ``post`` unless its key is already in the file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        with locked(self.path, "a+b") as handle:
            if any(record.get("key") == post.key for record in _records(handle)):
                return Receipt(remote_id=post.key, url=None, already_published=True)
            prefix = b"" if _ends_with_newline(handle) else b"\n"
            handle.write(prefix + self._line(post))
            handle.flush()
            os.fsync(handle.fileno())
        if created:
            fsync_dir(self.path.parent)
        return Receipt(remote_id=post.key, url=None)

    def _line(self, post: OutgoingPost) -> bytes:
        published_at = self._clock().astimezone(datetime.UTC)
        record = {
            "key": post.key,
            "channel": post.channel,
            "text": post.text,
            "milestone_ids": list(post.milestone_ids),
            "local_date": post.local_date.isoformat(),
            "language": post.language,
            "published_at": published_at.isoformat(),
        }
        return json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"
