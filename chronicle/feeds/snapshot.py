"""What the feeds read from the read models, in one pass: a snapshot every document renders from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from chronicle.projections import MilestoneView, PublishedPostView, ReadModels, RetractedView
from chronicle.projections import tables as t

POSTS_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The read models at one position, as the feeds need them."""

    milestones: tuple[MilestoneView, ...]       # in recorded order, oldest first
    posts: tuple[PublishedPostView, ...]        # newest first
    removals_at: dt.datetime | None             # last revision or retraction, if any
    position: int
    retracted: tuple[RetractedView, ...] = ()   # withdrawn milestones, in recorded order
    log_head: str | None = None                 # POSITION:HASH at `position`


def published_posts(read_models: ReadModels, limit: int) -> list[PublishedPostView]:
    """Published anniversary posts, newest first."""
    return read_models.published_posts(limit)


def last_removal_at(read_models: ReadModels) -> dt.datetime | None:
    """When an entry last may have left a document: a retraction, or a revision (of its tags).

    Neither leaves a newer entry behind in every document it touched, so HTTP Last-Modified
    must also move with it.
    """
    revised = sa.select(sa.func.max(t.history.c.recorded_at)).where(
        t.history.c.type == "MilestoneRevised")
    retracted = sa.select(sa.func.max(t.retracted.c.retracted_at))
    with read_models.engine.connect() as conn:
        values = [conn.execute(query).scalar() for query in (revised, retracted)]
    moments = [_aware(value) for value in values if value is not None]
    return max(moments, default=None)


def _aware(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):  # SQLite aggregates lose the column type
        value = dt.datetime.fromisoformat(value)
    return value.astimezone(dt.UTC)


def read_snapshot(read_models: ReadModels, *, posts_limit: int = POSTS_LIMIT) -> Snapshot:
    from chronicle.feeds.changes import LogChanges

    position = read_models.position()
    return Snapshot(
        log_head=LogChanges(read_models.engine).link(position),
        milestones=tuple(read_models.oldest_first()),
        posts=tuple(published_posts(read_models, posts_limit)),
        removals_at=last_removal_at(read_models),
        position=position,
        retracted=tuple(read_models.retracted_all()),
    )
