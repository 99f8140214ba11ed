"""Where posts stand: queries over the posts read model (``chronicle.projections.posts``)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row

from chronicle.projections.posts import posts


@dataclass(frozen=True, kw_only=True, slots=True)
class PostStatusView:
    """Where one post stands: claimed, published, failed or skipped."""

    key: str
    stream_id: str
    channel: str
    local_date: dt.date
    milestone_ids: tuple[str, ...]
    status: str
    text: str | None
    due_at: dt.datetime | None
    attempts: int
    error: str | None
    reason: str | None
    retry_at: dt.datetime | None
    remote_url: str | None


def _status(row: Row[Any]) -> PostStatusView:
    return PostStatusView(
        key=row.key, stream_id=row.stream_id, channel=row.channel, local_date=row.local_date,
        milestone_ids=tuple(json.loads(row.milestone_ids)), status=row.status, text=row.text,
        due_at=row.due_at, attempts=row.attempts, error=row.error, reason=row.reason,
        retry_at=row.retry_at, remote_url=row.remote_url,
    )


def pending_posts(engine: Engine, local_date: dt.date) -> list[PostStatusView]:
    """Posts of `local_date` claimed or failed (not for good) that have no final outcome yet."""
    query = (sa.select(posts).where(posts.c.local_date == local_date)
             .where(sa.or_(posts.c.status == "claimed",
                           sa.and_(posts.c.status == "failed", posts.c.permanent.is_(False))))
             .order_by(posts.c.key))
    with engine.connect() as conn:
        return [_status(row) for row in conn.execute(query)]


def post_statuses(engine: Engine, keys: list[str]) -> dict[str, PostStatusView]:
    """The known posts among `keys`, by key."""
    if not keys:
        return {}
    query = sa.select(posts).where(posts.c.key.in_(keys))
    with engine.connect() as conn:
        return {row.key: _status(row) for row in conn.execute(query)}


def post_counts(engine: Engine) -> dict[str, int]:
    """How many posts stand in each state (draft, approved, held, claimed, published, …)."""
    if not sa.inspect(engine).has_table(posts.name):
        return {}
    query = sa.select(posts.c.status, sa.func.count()).group_by(posts.c.status)
    with engine.connect() as conn:
        return {str(status): int(count) for status, count in conn.execute(query)}
