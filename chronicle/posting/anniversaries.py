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

Languages (``posting.languages``): each language gets its own post per (milestone, year,
channel), keyed ``<milestone>/<year>/<channel>/<language>`` (English keys carry no language, so
claims made before languages stay valid). A post in another language is made only from the
milestone's translation into it: its title and summary, its own anniversary texts or else that
language's generic templates, its dates in words from CLDR. A milestone without a translation
(or a language without generic templates, for a milestone without its own text) gets no post in
that language, and the day's :class:`DayPlan` says so in ``unposted``: English text is never
sent labelled as another language.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial

from chronicle import datewords
from chronicle.config import PostingSettings, Settings
from chronicle.dates import MONTH_NAMES, DatePoint, HistoricalDate
from chronicle.posting.posttext import (
    DEFAULT_TEMPLATES,
    LANGUAGE_TEMPLATES,
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
    reviewed: bool = True  # False: made from a translation no second reader has checked yet

    def window_end(self, grace: dt.timedelta) -> dt.datetime:
        return self.due_at + grace


@dataclass(frozen=True, kw_only=True, slots=True)
class Unposted:
    """A milestone that gets no post in one language on a day, and why."""

    milestone_id: str
    language: str
    local_date: dt.date
    reason: str

    def line(self) -> str:
        return (f"{self.milestone_id}: no {self.language} post on "
                f"{self.local_date.isoformat()} ({self.reason})")


@dataclass(frozen=True, kw_only=True, slots=True)
class DayPlan:
    """The posts of one day, and the milestones left without a post in some language."""

    posts: list[PlannedPost]
    unposted: list[Unposted]


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


def templates_from(posting: PostingSettings, language: str = "en") -> PostTemplates | None:
    """The generic templates of `language` (the configured ones override English's), or None
    when the language has none: then only milestones with their own text post in it."""
    if language != "en":
        shipped = LANGUAGE_TEMPLATES.get(language)
        return None if shipped is None else replace(shipped,
                                                    round_every=tuple(posting.round_every))
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
             language: str = "en") -> Occasion | None:
    """The anniversary as a post in `language` says it; None without a translation into it."""
    if language != "en":
        return translated_occasion(anniversary, local_date, base_url, language)
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


def translated_occasion(anniversary: Anniversary, local_date: dt.date, base_url: str,
                        language: str) -> Occasion | None:
    """Only the translation's own words: no English field stands in (``anniversary_of`` has
    no translation, so the generic templates do without it); the link is the language's page."""
    milestone = anniversary.view.milestone
    translation = milestone.translation(language)
    if translation is None:
        return None
    own = translation.anniversary
    dates = milestone.with_caveat(datewords.date_words(milestone.date, language))
    return Occasion(
        milestone_id=milestone.id,
        title=translation.title,
        summary=translation.summary,
        anniversary_of=None,
        date_words=dates,
        full_date=dates,
        month_day_words=datewords.month_day_words(local_date.month, local_date.day, language),
        years=anniversary.years,
        year=milestone.date.start.year,
        url=f"{base_url}/{language}/milestones/{milestone.id}",
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


def chosen_languages(posting: PostingSettings, requested: list[str] | None) -> list[str]:
    """`requested` (all configured when None), each one a configured language."""
    configured = list(posting.languages)
    if not requested:
        return configured
    unknown = [lang for lang in requested if lang not in configured]
    if unknown:
        raise ValueError(f"--lang {', '.join(unknown)}: not in posting.languages "
                         f"({', '.join(configured)})")
    return list(dict.fromkeys(requested))


class Planner:
    """Turns a local date into the posts due that day on each channel, in each language."""

    def __init__(self, settings: Settings, read_models: ReadModels,
                 limits: Mapping[str, TextLimit] | None = None) -> None:
        self.settings = settings
        self.posting = settings.posting
        self.read_models = read_models
        self.limits = dict(limits or {})
        self._composers: dict[tuple[str, str], PostComposer | None] = {}

    def composer(self, channel: str, language: str = "en") -> PostComposer | None:
        """The composer for `channel`'s limit (X's when not known) in `language`; None when the
        language has no generic templates."""
        if (channel, language) not in self._composers:
            limit = self.limits.get(channel, X_TEXT_LIMIT)
            templates = templates_from(self.posting, language)
            self._composers[channel, language] = (
                None if templates is None else PostComposer(templates, limit))
        return self._composers[channel, language]

    def languages(self, requested: list[str] | None = None) -> list[str]:
        return chosen_languages(self.posting, requested)

    def anniversaries(self, local_date: dt.date) -> list[Anniversary]:
        return anniversaries_on(self.read_models, local_date, self.posting.feb29_rule)

    def plan(self, local_date: dt.date, channels: list[str],
             languages: list[str] | None = None) -> list[PlannedPost]:
        """Every post due on `local_date`, one per (anniversary or digest, channel, language)."""
        return self.plan_day(local_date, channels, languages).posts

    def plan_day(self, local_date: dt.date, channels: list[str],
                 languages: list[str] | None = None) -> DayPlan:
        """The day's posts and the milestones without a post in some language."""
        found = self.anniversaries(local_date)
        posts: list[PlannedPost] = []
        unposted: list[Unposted] = []
        if not found:
            return DayPlan(posts=posts, unposted=unposted)
        when = due_at(local_date, self.posting)
        for language in self.languages(languages):
            chosen: list[tuple[Anniversary, Occasion]] = []
            for anniversary in found:
                occ = occasion(anniversary, local_date, self.settings.feed.base_url, language)
                reason = self._unpostable(occ, language)
                if reason is None and occ is not None:
                    chosen.append((anniversary, occ))
                else:
                    unposted.append(Unposted(milestone_id=anniversary.milestone_id,
                                             language=language, local_date=local_date,
                                             reason=reason or ""))
            if chosen:
                posts += self._posts(local_date, channels, when, chosen, language)
        return DayPlan(posts=posts, unposted=unposted)

    def _unpostable(self, occ: Occasion | None, language: str) -> str | None:
        """Why `occ` cannot be a post in `language` (a digest uses only generic templates)."""
        if occ is None:
            return f"the milestone has no {language} translation"
        has_templates = templates_from(self.posting, language) is not None
        if not has_templates and (self.posting.digest or occ.text is None):
            return (f"no {language} anniversary text in its translation, and no generic "
                    f"{language} templates")
        return None

    def _posts(self, local_date: dt.date, channels: list[str], when: dt.datetime,
               chosen: list[tuple[Anniversary, Occasion]], language: str) -> list[PlannedPost]:
        found = [a for a, _ in chosen]
        occasions = [o for _, o in chosen]
        reviewed = all(self._reviewed(a, language) for a in found)
        if self.posting.digest:
            name = f"digest-{local_date:%m-%d}"
            return [self._post(name, local_date, c, when, found,
                               *self._text(partial(self._composer(c, language).compose_digest,
                                                   occasions)),
                               digest=True, language=language, reviewed=reviewed)
                    for c in channels]
        return [self._post(a.milestone_id, local_date, c, when, [a],
                           *self._text(partial(self._composer(c, language).compose, occ)),
                           digest=False, language=language,
                           reviewed=self._reviewed(a, language))
                for a, occ in chosen for c in channels]

    def _composer(self, channel: str, language: str) -> PostComposer:
        """The language's composer, or one with English's templates for a language without
        generic ones: it renders only the milestone's own (translated) text, never these."""
        return self.composer(channel, language) or self.composer(channel, "en") or PostComposer()

    @staticmethod
    def _reviewed(anniversary: Anniversary, language: str) -> bool:
        if language == "en":
            return True
        translation = anniversary.view.milestone.translation(language)
        return translation is not None and translation.reviewed is True

    @staticmethod
    def _text(compose: Callable[[], str]) -> tuple[str | None, str | None]:
        try:
            return compose(), None
        except PostTooLong as exc:
            return None, str(exc)

    @staticmethod
    def _post(name: str, local_date: dt.date, channel: str, when: dt.datetime,
              found: list[Anniversary], text: str | None, problem: str | None, *, digest: bool,
              language: str, reviewed: bool) -> PlannedPost:
        return PlannedPost(
            key=post_key(name, local_date.year, channel, language),
            stream_id=stream_for(name, local_date, channel, digest=digest, language=language),
            channel=channel, local_date=local_date, due_at=when,
            milestone_ids=tuple(a.milestone_id for a in found),
            years=tuple(a.years for a in found), text=text, problem=problem,
            language=language, reviewed=reviewed,
        )
