"""The anniversary calendar: RFC 5545 through `icalendar`, one yearly all-day event a milestone.

Deterministic like the feeds: no "now" anywhere. DTSTAMP is the milestone's last recorded
change (RFC 5545 §3.8.7.2: without a METHOD it is when the component was last revised),
which equals its `recorded_at` until it is first revised; CREATED is `recorded_at`,
LAST-MODIFIED `updated_at`, and SEQUENCE counts the revisions, so clients see corrections.

29 February follows `posting.feb29_rule`, as the anniversary posts do, with one RRULE each:
  feb28  FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1  (the last day of February: 29th or 28th)
  mar1   FREQ=YEARLY;BYYEARDAY=60             (day 60: 29 February, or 1 March in common years)
  skip   FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29  (leap years only)

A calendar per language (`/mn/calendar.ics`): titles, summaries and dates in that language with
English standing in, tagged LANGUAGE=en, where a text is not translated; its events link the
language's pages (`/mn/milestones/<id>`) and have their own UIDs (`<id>.mn@host`), so a reader
subscribed to both calendars sees two events, not one overwriting the other. English is
unchanged: no LANGUAGE parameters, the same bytes as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from operator import attrgetter
from typing import Any, cast
from urllib.parse import quote

from icalendar import Calendar, Event, vRecur

from chronicle.config import Settings
from chronicle.localized import localize
from chronicle.projections import MilestoneView
from chronicle.uitext import language_prefix

MEDIA_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//Chronicle//Anniversary calendar//EN"
CALENDAR_END = b"END:VCALENDAR\r\n"
FOLD_AT = 75   # octets: RFC 5545 §3.1 folds longer content lines
FEB29_RULES: dict[str, dict[str, Any]] = {
    "feb28": {"freq": "yearly", "bymonth": 2, "bymonthday": -1},
    "mar1": {"freq": "yearly", "byyearday": 60},
    "skip": {"freq": "yearly", "bymonth": 2, "bymonthday": 29},
}
Stamp = tuple[str, int]
STAMP: Callable[[MilestoneView], Stamp] = attrgetter("milestone.id", "updated_position")
CALENDAR_TEXTS = {   # (name suffix, description) of the calendar itself, per language
    "en": ("anniversaries", "Yearly anniversaries of the milestones."),
    "mn": ("ойн өдрүүд", "Үйл явдлуудын жил бүрийн ой."),
}


def uid_host(tag_authority: str) -> str:
    """The host of an RFC 4151 authority ("example.org,2026" or "user@example.org,2026")."""
    return tag_authority.split(",", 1)[0].rsplit("@", 1)[-1]


def recurrence(first_day: dt.date, feb29_rule: str) -> dict[str, Any]:
    if (first_day.month, first_day.day) == (2, 29):
        return dict(FEB29_RULES[feb29_rule])
    return {"freq": "yearly"}


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def anniversary_event(view: MilestoneView, settings: Settings, language: str = "en") -> Event:
    """One milestone's yearly all-day event; its UID never changes."""
    milestone = view.milestone
    first_day = milestone.date.first_day()
    prefix = language_prefix(language)
    page = f"{settings.feed.base_url}{prefix}/milestones/{quote(milestone.id, safe='')}"
    event = Event()
    suffix = "" if language == "en" else f".{language}"
    event.add("uid", f"{milestone.id}{suffix}@{uid_host(settings.feed.tag_authority)}")
    event.add("dtstamp", _utc(view.updated_at))
    event.add("created", _utc(view.recorded_at))
    event.add("last-modified", _utc(view.updated_at))
    event.add("sequence", view.revisions)
    local = localize(milestone, language)
    tagged = ({} if language == "en" else
              {name: {"LANGUAGE": "en" if name in local.fallbacks else language}
               for name in ("title", "summary")})
    event.add("summary", f"{local.title} ({milestone.with_caveat(str(first_day.year))})",
              parameters=tagged.get("title", {}))
    event.add("dtstart", first_day)
    event.add("dtend", first_day + dt.timedelta(days=1))
    event.add("rrule", recurrence(first_day, settings.posting.feb29_rule))
    text = f"{local.date_words}: {local.summary}".rstrip(": ")
    event.add("description", f"{text}\n\n{page}", parameters=tagged.get("summary", {}))
    event.add("url", page)
    event.add("transp", "TRANSPARENT")
    if milestone.tags:
        event.add("categories", list(milestone.tags))
    return event


def event_ical(view: MilestoneView, settings: Settings, language: str = "en") -> bytes:
    """One event's content lines, as they appear inside the calendar: the bytes icalendar
    writes for `anniversary_event` (tests/test_calendar_bytes.py compares them), written
    directly. Building the Event and its typed values made a sixth of a first export."""
    milestone = view.milestone
    first_day = milestone.date.first_day()
    page = f"{settings.feed.base_url}{language_prefix(language)}/milestones/" \
           f"{quote(milestone.id, safe='')}"
    suffix = "" if language == "en" else f".{language}"
    local = localize(milestone, language)
    title, summary = "", ""
    if language != "en":
        title, summary = (f";LANGUAGE={'en' if name in local.fallbacks else language}"
                          for name in ("title", "summary"))
    text = f"{local.date_words}: {local.summary}".rstrip(": ")
    lines = [
        f"SUMMARY{title}:"
        + _text(f"{local.title} ({milestone.with_caveat(str(first_day.year))})"),
        f"DTSTART;VALUE=DATE:{_date(first_day)}",
        f"DTEND;VALUE=DATE:{_date(first_day + dt.timedelta(days=1))}",
        f"DTSTAMP:{_moment(view.updated_at)}",
        "UID:" + _text(f"{milestone.id}{suffix}@{uid_host(settings.feed.tag_authority)}"),
        f"SEQUENCE:{int(view.revisions)}",
        f"RRULE:{_rrule(first_day.month, first_day.day, settings.posting.feb29_rule)}",
    ]
    if milestone.tags:
        lines.append("CATEGORIES:" + ",".join(map(_text, milestone.tags)))
    lines += [f"CREATED:{_moment(view.recorded_at)}",
              f"DESCRIPTION{summary}:" + _text(f"{text}\n\n{page}"),
              f"LAST-MODIFIED:{_moment(view.updated_at)}",
              "TRANSP:TRANSPARENT",
              f"URL:{page}"]
    return "".join(["BEGIN:VEVENT\r\n", *(fold(line) + "\r\n" for line in lines),
                    "END:VEVENT\r\n"]).encode("utf-8")


def _text(value: str) -> str:
    """A TEXT value escaped as RFC 5545 §3.3.11 (and icalendar) do."""
    return (value.replace("\\N", "\n").replace("\\", "\\\\").replace(";", "\\;")
            .replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
            .replace("\r", "\\n"))


def _date(day: dt.date) -> str:
    return f"{day.year:04}{day.month:02}{day.day:02}"


def _moment(moment: dt.datetime) -> str:
    utc = _utc(moment)
    return f"{_date(utc)}T{utc.hour:02}{utc.minute:02}{utc.second:02}Z"


@lru_cache(maxsize=16)
def _rrule(month: int, day: int, feb29_rule: str) -> str:
    """The recurrence as icalendar writes it (a handful of distinct ones: made once each)."""
    rule = vRecur(recurrence(dt.date(2000, month, day), feb29_rule))
    return bytes(rule.to_ical()).decode()  # type: ignore[no-untyped-call]


def fold(line: str, limit: int = FOLD_AT) -> str:
    """A content line folded as icalendar folds it: a break before the character that would
    reach `limit` octets, never right after a backslash or caret (an escape stays whole)."""
    if len(line) < limit and (line.isascii() or len(line.encode("utf-8")) < limit):
        return line
    if not line.isascii():
        return _fold_octets(line, limit)
    pieces = []
    start = 0
    while len(line) - start >= limit:
        end = start + limit - 1
        if end - start > 1 and line[end - 1] in "\\^":
            end -= 1
        pieces.append(line[start:end])
        start = end
    pieces.append(line[start:])
    return "\r\n ".join(pieces)


def _fold_octets(line: str, limit: int) -> str:
    """`fold` counting each character's UTF-8 octets."""
    pieces: list[str] = []
    current: list[str] = []
    count = 0
    for char in line:
        size = len(char.encode("utf-8"))
        if current and count + size >= limit:
            if len(current) > 1 and current[-1] in "\\^":
                carried = current.pop()
                pieces.append("".join(current))
                current, count = [carried], 1
            else:
                pieces.append("".join(current))
                current, count = [], 0
        current.append(char)
        count += size
    if current:
        pieces.append("".join(current))
    return "\r\n ".join(pieces)


class HeldEvents:
    """Each milestone's event bytes held by its stamp (id, updated position: within one
    database they stand for its whole content) from one calendar to the next, so a calendar
    after a few changes renders only theirs and looks the rest up in C: a Python call per
    event made a calendar of 33,000 cost 0.17 s. A milestone with no anniversary holds b""."""

    def __init__(self, render: Callable[[MilestoneView], bytes]) -> None:
        self.render = render
        self._held: dict[Stamp, bytes] = {}

    def __call__(self, views: Sequence[MilestoneView]) -> list[bytes]:
        """The events of `views`, in their order: every event shown (the versions no longer
        among `views` are dropped once they outnumber them)."""
        stamps, events = self._events(views)
        if len(self._held) > 2 * len(stamps) + 64:   # drop the versions no longer shown
            self._held = dict(zip(stamps, events, strict=True))
        return events

    def some(self, views: Sequence[MilestoneView]) -> list[bytes]:
        """The events of `views`, in their order, among others still shown (keeps the rest)."""
        return self._events(views)[1]

    def forget(self, stamps: Iterable[Stamp]) -> None:
        """Drop the events of versions no longer shown (`some`'s caller knows which)."""
        for stamp in stamps:
            self._held.pop(stamp, None)

    def _events(self, views: Sequence[MilestoneView]) -> tuple[list[Stamp], list[bytes]]:
        stamps = list(map(STAMP, views))
        events = list(map(self._held.get, stamps))
        if None not in events:
            return stamps, cast(list[bytes], events)
        at = events.index(None)
        while True:
            view = views[at]
            event = self.render(view) if view.milestone.date.month_day() is not None else b""
            events[at] = self._held[stamps[at]] = event
            try:
                at = events.index(None, at + 1)
            except ValueError:
                break
        return stamps, cast(list[bytes], events)


def render_calendar(views: Sequence[MilestoneView], settings: Settings,
                    calendar_url: str | None = None, language: str = "en") -> bytes:
    """Every day-precision milestone as a yearly event, in the order given, rendered whole.

    The served calendar is held in parts (chronicle.pages.calendarparts) and must equal this.
    The calendar's own lines come first and END:VCALENDAR last, as icalendar nests components.
    """
    events = HeldEvents(lambda view: event_ical(view, settings, language))(views)
    return b"".join([calendar_head(settings, calendar_url, language), *events, CALENDAR_END])


def calendar_head(settings: Settings, calendar_url: str | None, language: str) -> bytes:
    """The calendar's own lines, as icalendar writes them before its first event."""
    feed = settings.feed
    calendar = Calendar()
    suffix, about = CALENDAR_TEXTS.get(language, CALENDAR_TEXTS["en"])
    name = f"{feed.title}: {suffix}"
    description = f"{about} {feed.subtitle}"
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("description", description)
    calendar.add("x-wr-caldesc", description)
    calendar.add("url", f"{feed.base_url}{language_prefix(language)}/")
    if calendar_url:
        calendar.add("source", calendar_url, parameters={"VALUE": "URI"})
    calendar.add("refresh-interval", dt.timedelta(days=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "P1D")
    whole = bytes(calendar.to_ical())
    if not whole.endswith(CALENDAR_END):    # the events go before it: fail loudly
        raise RuntimeError(f"icalendar ended a calendar with {whole[-40:]!r}, not END:VCALENDAR")
    return whole[:-len(CALENDAR_END)]
