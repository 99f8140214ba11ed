"""What is due on a local date, and what it says: anniversaries read from the read models.

A milestone has a yearly anniversary when its date (a range: its first day) is known to the
day and it has not opted out (``anniversary_posts: false``); month and year precision never
post, nor does the day itself (year 0). The number of
years is ``HistoricalDate.years_since`` on the anniversary. February 29 follows
``posting.feb29_rule``: in common years the post goes out on 28 February ("feb28", default),
on 1 March ("mar1"), or not at all ("skip"); in leap years always on the 29th. Each
(milestone, year) therefore has exactly one posting date, which is what makes the post key
``<milestone>/<year>/<channel>`` once-per-year. Each channel gets its own text, composed
against that channel's :class:`~chronicle.publishers.TextLimit`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

from chronicle.config import PostingSettings, Settings
from chronicle.dates import MONTH_NAMES, DatePoint, HistoricalDate
from chronicle.posting.posttext import (
    DEFAULT_TEMPLATES,
    Occasion,
    PostComposer,
    PostTemplates,
    PostTooLong,
)
from chronicle.projections import MilestoneView, ReadModels
from chronicle.publishers.base import TextLimit
from chronicle.publishers.xtext import X_TEXT_LIMIT

FEB29 = (2, 29)


@dataclass(frozen=True, kw_only=True, slots=True)
class Anniversary:
    """One milestone's anniversary on one local date."""

    view: MilestoneView
    years: int

    @property
    def milestone_id(self) -> str:
        return self.view.id


@dataclass(frozen=True, kw_only=True, slots=True)
class PlannedPost:
    """One post for one channel: its idempotency key, stream, due moment and text.

    ``problem`` is set (and ``text`` is None) when no text fits X's limit.
    """

    key: str
    stream_id: str
    channel: str
    local_date: dt.date
    due_at: dt.datetime  # UTC
    milestone_ids: tuple[str, ...]
    years: tuple[int, ...]
    text: str | None
    problem: str | None = None
    language: str = "en"

    def window_end(self, grace: dt.timedelta) -> dt.datetime:
        return self.due_at + grace


def month_days_on(local_date: dt.date, feb29_rule: str) -> list[tuple[int, int]]:
    """The (month, day) anniversaries that fall on `local_date` under the Feb 29 rule."""
    days = [(local_date.month, local_date.day)]
    if calendar.isleap(local_date.year):
        return days
    if (feb29_rule == "feb28" and days[0] == (2, 28)) or (
            feb29_rule == "mar1" and days[0] == (3, 1)):
        days.append(FEB29)
    return days


def years_on(view: MilestoneView, local_date: dt.date) -> int | None:
    """Years completed on the anniversary that `local_date` stands for; None before the date."""
    date = view.milestone.date
    counted_on = local_date
    if date.month_day() == FEB29 and not calendar.isleap(local_date.year):
        counted_on = dt.date(local_date.year, 3, 1)  # a Feb 29 start completes years on Mar 1
    try:
        return date.years_since(counted_on)
    except ValueError:
        return None


def anniversaries_on(read_models: ReadModels, local_date: dt.date, feb29_rule: str
                     ) -> list[Anniversary]:
    """Non-retracted day-precision milestones with an anniversary of 1 year or more that day."""
    found: list[Anniversary] = []
    for month, day in month_days_on(local_date, feb29_rule):
        for view in read_models.on_this_day(month, day):
            years = years_on(view, local_date)
            if years is not None and years >= 1 and view.milestone.posts_yearly:
                found.append(Anniversary(view=view, years=years))
    return found


def due_at(local_date: dt.date, posting: PostingSettings) -> dt.datetime:
    """The UTC moment of the posting time on `local_date` in the configured zone.

    zoneinfo's fold=0 decides the odd cases: a time skipped by a spring-forward change is read
    with the offset before the change (02:30 EST, i.e. 03:30 EDT); a repeated time means its
    first occurrence.
    """
    local = dt.datetime.combine(local_date, posting.time, tzinfo=posting.zone)
    return local.astimezone(dt.UTC)


def local_today(now: dt.datetime, posting: PostingSettings) -> dt.date:
    return now.astimezone(posting.zone).date()


def templates_from(posting: PostingSettings) -> PostTemplates:
    return PostTemplates(
        regular=posting.template_regular or DEFAULT_TEMPLATES.regular,
        round=posting.template_round or DEFAULT_TEMPLATES.round,
        digest=posting.template_digest or DEFAULT_TEMPLATES.digest,
        round_every=tuple(posting.round_every),
    )


def month_day_words(local_date: dt.date) -> str:
    return f"{MONTH_NAMES[local_date.month - 1]} {local_date.day}"


def _point_words(point: DatePoint, *, year: bool) -> str:
    assert point.month is not None
    words = f"{MONTH_NAMES[point.month - 1]} {point.day}"
    return f"{words}, {point.year}" if year else words


def full_date_words(date: HistoricalDate) -> str:
    """A day-precision date as a post says it: "January 27, 1987", "July 14–21, 2004"."""
    start, end = date.start, date.end
    if start.day is None:
        return date.words()
    if end is None or end.day is None:
        return _point_words(start, year=True)
    if (start.year, start.month) == (end.year, end.month):
        return f"{_point_words(start, year=False)}–{end.day}, {end.year}"
    if start.year == end.year:
        return f"{_point_words(start, year=False)} – {_point_words(end, year=True)}"
    return f"{_point_words(start, year=True)} – {_point_words(end, year=True)}"


def occasion(anniversary: Anniversary, local_date: dt.date, base_url: str,
             language: str = "en") -> Occasion:
    milestone = anniversary.view.milestone
    own = milestone.anniversary
    return Occasion(
        milestone_id=milestone.id,
        title=milestone.title,
        summary=milestone.summary,
        anniversary_of=milestone.anniversary_of,
        date_words=milestone.date_words(),
        full_date=milestone.with_caveat(full_date_words(milestone.date)),
        month_day_words=month_day_words(local_date),
        years=anniversary.years,
        year=milestone.date.start.year,
        url=f"{base_url}/milestones/{milestone.id}",
        text=own.text if own else None,
        round_text=own.round if own else None,
        language=language,
    )


def post_key(milestone_or_digest: str, year: int, channel: str, language: str = "en") -> str:
    """The idempotency key every retry of a post shares (the outbox's and the feed's id).

    English keys carry no language, so every claim made before posts had languages matches.
    """
    key = f"{milestone_or_digest}/{year}/{channel}"
    return key if language == "en" else f"{key}/{language}"


def stream_for(anniversary_id: str, local_date: dt.date, channel: str, *, digest: bool,
               language: str = "en") -> str:
    """The post's stream in the log: ``post-<milestone>-<year>-<channel>``."""
    suffix = "" if language == "en" else f"-{language}"
    if digest:
        return f"post-digest-{local_date.isoformat()}-{channel}{suffix}"
    return f"post-{anniversary_id}-{local_date.year}-{channel}{suffix}"


class Planner:
    """Turns a local date into the posts due that day on each channel."""

    def __init__(self, settings: Settings, read_models: ReadModels,
                 limits: Mapping[str, TextLimit] | None = None) -> None:
        self.settings = settings
        self.posting = settings.posting
        self.read_models = read_models
        self.limits = dict(limits or {})
        self._templates = templates_from(self.posting)
        self._composers: dict[str, PostComposer] = {}

    def composer(self, channel: str) -> PostComposer:
        """The composer for `channel`'s limit (X's when the channel's is not known)."""
        if channel not in self._composers:
            limit = self.limits.get(channel, X_TEXT_LIMIT)
            self._composers[channel] = PostComposer(self._templates, limit)
        return self._composers[channel]

    def anniversaries(self, local_date: dt.date) -> list[Anniversary]:
        return anniversaries_on(self.read_models, local_date, self.posting.feb29_rule)

    def plan(self, local_date: dt.date, channels: list[str]) -> list[PlannedPost]:
        """Every post due on `local_date`, one per (anniversary or digest, channel)."""
        found = self.anniversaries(local_date)
        if not found:
            return []
        when = due_at(local_date, self.posting)
        occasions = [occasion(a, local_date, self.settings.feed.base_url) for a in found]
        if self.posting.digest:
            name = f"digest-{local_date:%m-%d}"
            return [self._post(name, local_date, c, when, found,
                               *self._text(partial(self.composer(c).compose_digest, occasions)),
                               digest=True)
                    for c in channels]
        posts = []
        for anniversary, occ in zip(found, occasions, strict=True):
            posts += [self._post(anniversary.milestone_id, local_date, c, when, [anniversary],
                                 *self._text(partial(self.composer(c).compose, occ)),
                                 digest=False) for c in channels]
        return posts

    @staticmethod
    def _text(compose: Callable[[], str]) -> tuple[str | None, str | None]:
        try:
            return compose(), None
        except PostTooLong as exc:
            return None, str(exc)

    @staticmethod
    def _post(name: str, local_date: dt.date, channel: str, when: dt.datetime,
              found: list[Anniversary], text: str | None, problem: str | None, *, digest: bool
              ) -> PlannedPost:
        return PlannedPost(
            key=post_key(name, local_date.year, channel),
            stream_id=stream_for(name, local_date, channel, digest=digest),
            channel=channel, local_date=local_date, due_at=when,
            milestone_ids=tuple(a.milestone_id for a in found),
            years=tuple(a.years for a in found), text=text, problem=problem,
        )
