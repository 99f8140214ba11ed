"""The anniversary calendar in Mongolian: translated text, English marked, own UIDs and links."""

from __future__ import annotations

import dataclasses

import icalendar
import vobject

from chronicle.pages.ical import render_calendar
from chronicle.store import SqlEventStore
from chronicle.translations import Translation
from tests.factories import make_milestone, record_milestones
from tests.test_calendar import read_models, settings

MN = Translation(language="mn", title="АНУ, Монгол Улс дипломат харилцаа тогтоов",
                 summary="АНУ 1987 онд Монгол Улсыг хүлээн зөвшөөрчээ.",
                 translator="Chronicle team (machine-assisted draft)")


def _events(body: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def test_the_mongolian_calendar_speaks_mongolian_and_marks_english(store: SqlEventStore) -> None:
    translated = dataclasses.replace(make_milestone(1, date="1987-01-27"), translations=(MN,))
    record_milestones(store, [translated, make_milestone(2, date="2019-07-30/2019-08-02")])
    views = read_models(store).day_precision()
    english = render_calendar(views, settings())
    body = render_calendar(views, settings(), "https://chronicle.example.org/mn/calendar.ics",
                           language="mn")
    assert render_calendar(views, settings(), language="mn") != english
    assert b"LANGUAGE" not in english                     # English bytes as before

    events = _events(body)
    assert set(events) == {"milestone-1.mn@chronicle.example.org",
                           "milestone-2.mn@chronicle.example.org"}
    relations = events["milestone-1.mn@chronicle.example.org"]
    assert str(relations["summary"]) == f"{MN.title} (1987)"
    assert relations["summary"].params["LANGUAGE"] == "mn"
    assert str(relations["description"]).startswith(
        f"1987\u202fоны нэгдүгээр сарын 27: {MN.summary}\n\n")
    assert str(relations["url"]) == "https://chronicle.example.org/mn/milestones/milestone-1"
    untranslated = events["milestone-2.mn@chronicle.example.org"]
    assert untranslated["summary"].params["LANGUAGE"] == "en"
    assert str(untranslated["description"]).startswith(
        "2019\u202fоны долоодугаар сарын 30 – наймдугаар сарын 2: Summary 2")

    parsed = vobject.readOne(body.decode("utf-8"))    # a second, independent parser agrees
    assert {v.uid.value for v in parsed.vevent_list} == set(events)
    calendar = icalendar.Calendar.from_ical(body)
    assert str(calendar["x-wr-calname"]).endswith(": ойн өдрүүд")
    assert str(calendar["url"]) == "https://chronicle.example.org/mn/"
