"""The calendar's events written directly (chronicle.pages.ical.event_ical) are the bytes
icalendar writes for the same event (`anniversary_event`): every property, escape and fold,
on milestones chosen to stress them (commas, semicolons, backslashes, carets and newlines in
the text, long ASCII and Cyrillic lines, tags that need escaping, 29 February under each rule,
translations whole and partial, revisions, times off UTC and with microseconds)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest

from chronicle.config import Settings
from chronicle.dates import HistoricalDate
from chronicle.domain import Milestone
from chronicle.pages.ical import anniversary_event, event_ical, fold
from chronicle.projections import MilestoneView
from chronicle.translations import Translation
from tests.factories import make_milestone

TEXTS = [
    "Plain",
    "Commas, semicolons; and a back\\slash \\N with caret ^ and \"quotes\"",
    "Line one\nline two\r\nline three\rfour",
    "x" * 73 + "\\" + "y" * 200,
    "x" * 72 + "\\;" + "z" * 150 + "^" + "w" * 80,
    "Улаанбаатар " * 12 + "\\, ; end",
    "a" * 70 + "ᠮᠣᠩᠭᠣᠯ" * 20,
]


def milestone(n: int) -> Milestone:
    text = TEXTS[n % len(TEXTS)]
    date = ("2000-02-29", "1987-01-27", "1912-12", "1921", "1864-02-29")[n % 5]
    tags = (("diplomacy",), ("a,b", "c;d", "e\\f"), (), ("trade", "visits"))[n % 4]
    translations = (
        (),
        (Translation(language="mn", title=TEXTS[(n + 1) % len(TEXTS)], summary=text,
                     translator="Chronicle team", reviewed=True),),
        (Translation(language="mn", title="Гарчиг, тэмдэглэл; " * (n % 5 + 1),
                     translator="Chronicle team"),),
    )[n % 3]
    return dataclasses.replace(
        make_milestone(n, title=f"{text} {n}", tags=tags), id=f"m-{n},x;y" if n % 6 == 0
        else f"milestone-{n}", date=HistoricalDate.parse(date), summary=text[::-1],
        date_caveat="the source says so, roughly" if n % 4 == 1 else None,
        translations=translations)


def view(n: int) -> MilestoneView:
    recorded = dt.datetime(2024, 3, 1, 23, 59, 59, 999_999,
                           tzinfo=dt.timezone(dt.timedelta(hours=8)))
    return MilestoneView(milestone=milestone(n), recorded_at=recorded,
                         updated_at=recorded + dt.timedelta(days=n, seconds=n * 37),
                         recorded_position=n, updated_position=n + 1, revisions=n % 4)


@pytest.mark.parametrize(("rule", "language"),
                         list(itertools.product(("feb28", "mar1", "skip"), ("en", "mn"))))
def test_written_events_are_icalendars_bytes(rule: str, language: str) -> None:
    settings = Settings(feed={"base_url": "https://chronicle.example.org/sub",
                              "tag_authority": "user@chronicle.example.org,2026"},
                        posting={"feb29_rule": rule})
    for n in range(60):
        expected = bytes(anniversary_event(view(n), settings, language).to_ical())
        assert event_ical(view(n), settings, language) == expected, n


def test_folding_keeps_escapes_whole_and_counts_octets() -> None:
    assert fold("x" * 74) == "x" * 74
    assert fold("x" * 75) == "x" * 74 + "\r\n x"
    assert fold("x" * 73 + "\\n" + "y") == "x" * 73 + "\r\n \\ny"
    assert fold("ж" * 40) == "ж" * 37 + "\r\n " + "ж" * 3   # two octets each
