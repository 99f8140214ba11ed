"""What the read models answer with: plain values that feeds, pages and posts render."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from chronicle.domain import Milestone


@dataclass(frozen=True, kw_only=True, slots=True)
class MilestoneView:
    """A current (non-retracted) milestone with its two kinds of time.

    `recorded_at` is when the chronicle learned of it (feeds' `published`); `updated_at` when it
    was last revised (feeds' `updated`); the historical date is `milestone.date`.
    """

    milestone: Milestone
    recorded_at: dt.datetime
    updated_at: dt.datetime
    recorded_position: int
    updated_position: int
    revisions: int

    @property
    def id(self) -> str:
        return self.milestone.id


@dataclass(frozen=True, kw_only=True, slots=True)
class HistoryEntry:
    """One event in a milestone's audit trail."""

    position: int
    type: str            # MilestoneRecorded | MilestoneRevised | MilestoneRetracted
    recorded_at: dt.datetime
    reason: str | None
    changes: dict[str, Any]
    previous: dict[str, Any] = field(default_factory=dict)  # what `changes` replaced


@dataclass(frozen=True, kw_only=True, slots=True)
class RetractedView:
    """A withdrawn milestone: gone from feeds and lists, but its page says so (HTTP 410)."""

    id: str
    title: str
    reason: str
    retracted_at: dt.datetime
    position: int
    recorded_at: dt.datetime | None = None      # when it was first recorded (feeds' slot)
    recorded_position: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class TagCount:
    tag: str
    count: int


@dataclass(frozen=True, kw_only=True, slots=True)
class PublishedPostView:
    """An anniversary post that went out on a channel (the anniversaries feed lists these)."""

    key: str                 # "<milestone-or-digest>/<year>/<channel>"
    channel: str
    text: str
    milestone_ids: tuple[str, ...]
    local_date: dt.date
    published_at: dt.datetime
    remote_id: str | None
    remote_url: str | None
    position: int


@dataclass(frozen=True, kw_only=True, slots=True)
class SearchHit:
    """A full-text match: the milestone, and its title and a passage with the matches marked
    (between fulltext.MARK_START and MARK_END; escape, then turn the marks into markup)."""

    view: MilestoneView
    title: str
    snippet: str
