"""The posts read model: one row per anniversary post (per key), with how far it got.

Fed by the posting events (see ``chronicle.posting.events``). Rows touched by a batch are
kept in memory and written once, as the milestones projection does.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

from chronicle.projections.base import Projection
from chronicle.projections.views import PublishedPostView
from chronicle.store import StoredEvent
from chronicle.store.schema import UTCDateTime

CLAIMED = "AnniversaryPostClaimed"
PUBLISHED = "AnniversaryPostPublished"
FAILED = "AnniversaryPostFailed"
SKIPPED = "AnniversaryPostSkipped"
DRAFTED, APPROVED, HELD = "AnniversaryPostDrafted", "AnniversaryPostApproved", "AnniversaryPostHeld"
STATUS = {CLAIMED: "claimed", PUBLISHED: "published", FAILED: "failed", SKIPPED: "skipped",
          DRAFTED: "draft", APPROVED: "approved", HELD: "held"}


def _utc(nullable: bool = True) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable)


class PostRow(SQLModel, table=True):
    """The latest known state of one post (key ``<milestone-or-digest>/<year>/<channel>``)."""

    __tablename__ = "rm_posts"
    __table_args__ = (sa.Index("ix_rm_posts_status_date", "status", "local_date"),)

    key: str = Field(primary_key=True, max_length=200)
    stream_id: str = Field(max_length=200)
    channel: str = Field(max_length=20)
    local_date: dt.date
    milestone_ids: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # JSON list
    status: str = Field(max_length=12)
    text: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    due_at: dt.datetime | None = Field(default=None, sa_column=_utc())
    attempts: int = 0
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    permanent: bool = False
    retry_at: dt.datetime | None = Field(default=None, sa_column=_utc())
    reason: str | None = Field(default=None, max_length=40)
    remote_id: str | None = Field(default=None, max_length=100)
    remote_url: str | None = Field(default=None, max_length=300)
    already_published: bool = False
    published_at: dt.datetime | None = Field(default=None, sa_column=_utc())
    position: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    published_position: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger(), nullable=True, index=True))


posts: sa.Table = PostRow.__table__  # type: ignore[attr-defined]


def _time(value: object) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _new_row(stored: StoredEvent) -> dict[str, Any]:
    p = stored.payload
    return {
        "key": p["key"], "stream_id": stored.stream_id, "channel": p["channel"],
        "local_date": dt.date.fromisoformat(p["local_date"]),
        "milestone_ids": json.dumps(p["milestone_ids"]), "status": "claimed", "text": None,
        "due_at": None, "attempts": 0, "error": None, "permanent": False, "retry_at": None,
        "reason": None, "remote_id": None, "remote_url": None, "already_published": False,
        "published_at": None, "position": stored.position, "published_position": None,
    }


def _apply(row: dict[str, Any], stored: StoredEvent) -> None:
    """Fold one event into its post's row."""
    p = stored.payload
    row["status"], row["position"] = STATUS[stored.type], stored.position
    if stored.type == DRAFTED:  # the review comes before any claim (see posting.review)
        row.update(text=p.get("text"), due_at=_time(p.get("due_at")) or row["due_at"])
    elif stored.type in (APPROVED, HELD):
        row["reason"] = (p.get("reason") or "")[:40] or None  # a hold says why
    elif stored.type == CLAIMED:
        row["text"] = p.get("text") or row["text"]
        row["due_at"] = _time(p.get("due_at")) or row["due_at"]
        row["attempts"] = max(row["attempts"], int(p.get("attempt") or 1))
    elif stored.type == PUBLISHED:
        row.update(text=p.get("text") or row["text"], remote_id=p.get("remote_id"),
                   remote_url=p.get("url"), already_published=bool(p.get("already_published")),
                   published_at=_time(p.get("published_at")) or stored.recorded_at,
                   published_position=stored.position, error=None, retry_at=None)
    elif stored.type == FAILED:
        row.update(error=p.get("error"), permanent=bool(p.get("permanent")),
                   retry_at=_time(p.get("retry_at")))
    elif stored.type == SKIPPED:
        row.update(reason=(p.get("reason") or "")[:40] or None,
                   error=p.get("detail") or row["error"],
                   text=row["text"] or p.get("text"),
                   due_at=row["due_at"] or _time(p.get("due_at")))


class PostsProjection(Projection):
    name = "posts"
    version = 2  # 2: drafts, approvals and holds

    def tables(self) -> Sequence[sa.Table]:
        return (posts,)

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        rows: dict[str, dict[str, Any]] = {}
        for stored in events:
            if stored.type not in STATUS or not stored.stream_id.startswith("post-"):
                continue
            key = stored.payload["key"]
            if key not in rows:
                found = conn.execute(sa.select(posts).where(posts.c.key == key)).first()
                rows[key] = dict(found._mapping) if found else _new_row(stored)
            _apply(rows[key], stored)
        if rows:
            keys = list(rows)
            conn.execute(posts.delete().where(posts.c.key.in_(keys)))
            conn.execute(posts.insert(), list(rows.values()))


def published_posts(engine: Engine, limit: int = 50) -> list[PublishedPostView]:
    """Posts that went out, newest first (by the position of their Published event)."""
    if not sa.inspect(engine).has_table(posts.name):
        return []  # no posts projection in this database yet: nothing was published
    query = (sa.select(posts).where(posts.c.status == "published")
             .order_by(posts.c.published_position.desc()).limit(limit))
    with engine.connect() as conn:
        return [PublishedPostView(
            key=row.key, channel=row.channel, text=row.text or "",
            milestone_ids=tuple(json.loads(row.milestone_ids)), local_date=row.local_date,
            published_at=row.published_at, remote_id=row.remote_id, remote_url=row.remote_url,
            position=row.published_position,
        ) for row in conn.execute(query)]
