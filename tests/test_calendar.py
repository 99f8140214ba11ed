"""The anniversary calendar parsed back by two independent parsers: icalendar and vobject."""

from __future__ import annotations

import datetime as dt

import icalendar
import pytest
import vobject

from chronicle.config import Settings
from chronicle.domain import revise
from chronicle.pages.ical import (
    CALENDAR_END,
    STAMP,
    HeldEvents,
    calendar_head,
    event_ical,
    render_calendar,
    uid_host,
)
from chronicle.projections import MilestoneView, Projector, ReadModels
from chronicle.repository import Decision, MilestoneRepository
from chronicle.store import SqlEventStore
from tests.factories import make_milestone, record_milestones


def settings(rule: str = "feb28") -> Settings:
    return Settings(feed={"base_url": "https://chronicle.example.org",
                          "tag_authority": "chronicle.example.org,2026"},
                    posting={"feb29_rule": rule})


def read_models(store: SqlEventStore) -> ReadModels:
    projector = Projector(store)
    projector.prepare()
    projector.catch_up()
    return ReadModels(store.engine)


@pytest.fixture
def models(store: SqlEventStore) -> ReadModels:
    record_milestones(store, [
        make_milestone(1, date="1987-01-27", tags=("diplomacy",)),
        make_milestone(2, date="1988-02-29", tags=("diplomacy",)),
        make_milestone(3, date="2019-07-30/2019-08-02", tags=("visits",)),
        make_milestone(4, date="1988-04", tags=("trade",)),   # no day: no anniversary
        make_milestone(5, date="1862", tags=("trade",)),
    ])
    repo = MilestoneRepository(store)
    state = repo.get("milestone-1")
    revised = make_milestone(1, title="Relations established", date="1987-01-27",
                             tags=("diplomacy",))
    repo.save([Decision(state, revise(state, revised, "shorter title"))], {})
    return read_models(store)


def occurrences(vevent: vobject.base.Component, year: int) -> list[dt.date]:
    """The event's days in `year`, expanded by vobject (python-dateutil's rrule)."""
    start = dt.datetime(year, 1, 1)
    end = dt.datetime(year, 12, 31, 23, 59)
    return [d.date() if isinstance(d, dt.datetime) else d
            for d in vevent.getrruleset(addRDate=True).between(start, end, inc=True)]


def test_one_yearly_all_day_event_per_day_precision_milestone(models: ReadModels) -> None:
    body = render_calendar(models.day_precision(), settings())
    calendar = icalendar.Calendar.from_ical(body)
    events = calendar.walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [
        "milestone-1@chronicle.example.org", "milestone-2@chronicle.example.org",
        "milestone-3@chronicle.example.org"]
    assert str(calendar["X-WR-CALNAME"]) == "Mongolia–United States: a chronicle: anniversaries"
    first = events[0]
    assert first.decoded("DTSTART") == dt.date(1987, 1, 27)
    assert first.decoded("DTEND") == dt.date(1987, 1, 28)
    assert first["RRULE"]["FREQ"] == ["YEARLY"]
    assert str(first["SUMMARY"]) == "Relations established (1987)"
    description = str(first["DESCRIPTION"])
    assert description.startswith("27 January 1987: Summary 1 with “quotes”")
    assert description.endswith("\n\nhttps://chronicle.example.org/milestones/milestone-1")
    view = models.milestone("milestone-1")
    assert view is not None
    # DTSTAMP: the last recorded change (RFC 5545 §3.8.7.2), never the time of rendering.
    assert first.decoded("DTSTAMP") == view.updated_at.replace(microsecond=0)
    assert first.decoded("CREATED") == view.recorded_at.replace(microsecond=0)
    assert view.updated_at > view.recorded_at
    assert first.decoded("SEQUENCE") == 1
    range_start = events[2]
    assert range_start.decoded("DTSTART") == dt.date(2019, 7, 30)


def test_vobject_reads_the_same_events_and_recurrences(models: ReadModels) -> None:
    body = render_calendar(models.day_precision(), settings()).decode("utf-8")
    calendar = vobject.readOne(body)
    events = calendar.vevent_list
    assert len(events) == 3
    assert calendar.contents["x-wr-calname"][0].value.endswith(": anniversaries")
    by_uid = {e.uid.value: e for e in events}
    relations = by_uid["milestone-1@chronicle.example.org"]
    assert relations.dtstart.value == dt.date(1987, 1, 27)
    assert occurrences(relations, 2027) == [dt.date(2027, 1, 27)]
    assert occurrences(by_uid["milestone-3@chronicle.example.org"], 2030) == [
        dt.date(2030, 7, 30)]


@pytest.mark.parametrize(("rule", "common_year", "leap_year"), [
    ("feb28", [dt.date(2027, 2, 28)], [dt.date(2028, 2, 29)]),
    ("mar1", [dt.date(2027, 3, 1)], [dt.date(2028, 2, 29)]),
    ("skip", [], [dt.date(2028, 2, 29)]),
])
def test_february_29_follows_the_posting_rule(models: ReadModels, rule: str,
                                             common_year: list[dt.date],
                                             leap_year: list[dt.date]) -> None:
    body = render_calendar(models.day_precision(), settings(rule))
    leap = {e.uid.value: e for e in vobject.readOne(body.decode()).vevent_list}[
        "milestone-2@chronicle.example.org"]
    assert leap.dtstart.value == dt.date(1988, 2, 29)
    assert occurrences(leap, 2027) == common_year
    assert occurrences(leap, 2028) == leap_year
    assert occurrences(leap, 2100) == [d.replace(year=2100) for d in common_year]
    parsed = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}
    rrule = parsed["milestone-2@chronicle.example.org"]["RRULE"]
    assert rrule["FREQ"] == ["YEARLY"]
    assert ("BYMONTHDAY" in rrule or "BYYEARDAY" in rrule)


def test_the_calendar_is_deterministic_and_escapes_text(store: SqlEventStore) -> None:
    record_milestones(store, [make_milestone(1, date="1987-01-27",
                                             title="Commas, semicolons; and \\ backslashes")])
    models = read_models(store)
    first = render_calendar(models.day_precision(), settings())
    assert render_calendar(models.day_precision(), settings()) == first
    summary = str(icalendar.Calendar.from_ical(first).walk("VEVENT")[0]["SUMMARY"])
    assert summary == "Commas, semicolons; and \\ backslashes (1987)"
    assert vobject.readOne(first.decode()).vevent.summary.value == summary


def test_uid_host_from_the_tag_authority() -> None:
    assert uid_host("chronicle.example.org,2026") == "chronicle.example.org"
    assert uid_host("editor@example.net,2026-01") == "example.net"


def view(n: int, date: str, position: int, title: str | None = None) -> MilestoneView:
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=position)
    return MilestoneView(milestone=make_milestone(n, date=date, title=title),
                         recorded_at=moment, updated_at=moment, recorded_position=n,
                         updated_position=position, revisions=0)


def test_held_events_make_only_the_changed_and_equal_a_whole_render() -> None:
    """A revision, a new milestone and one not known to the day, over many passes (`some`,
    as a day's refresh asks); the versions no longer shown are forgotten and made again if
    they come back. A full pass (`held(views)`) drops them once they outnumber those shown."""
    made: list[str] = []

    def render(one: MilestoneView) -> bytes:
        made.append(one.id)
        return event_ical(one, settings())

    def whole(events: list[bytes]) -> bytes:
        return b"".join([calendar_head(settings(), None, "en"), *events, CALENDAR_END])

    held = HeldEvents(render)
    views = [view(1, "1987-01-27", 1), view(2, "1988-04", 2), view(3, "1988-02-29", 3)]
    assert whole(held(views)) == render_calendar(views, settings())
    assert made == ["milestone-1", "milestone-3"]
    for position in range(4, 40):
        made.clear()
        revised = view(3, "1988-02-29", position, title=f"Revised {position}")
        new = view(position, "1990-05-17", position)
        gone = [STAMP(views[2])]
        views = [views[0], views[1], revised, new]
        assert whole(held.some(views)) == render_calendar(views, settings())
        assert made == ["milestone-3", f"milestone-{position}"]
        held.forget([*gone, STAMP(new)])
        views = views[:3]
    made.clear()
    assert held.some([new]) == [event_ical(new, settings())]   # forgotten: made again
    assert held.some(views[:2]) == [event_ical(views[0], settings()), b""]
    assert made == [new.id]                                     # the others were held
    for position in range(40, 200):                             # full passes, each revising
        views = [views[0], views[1], view(3, "1988-02-29", position)]
        assert whole(held(views)) == render_calendar(views, settings())
    made.clear()
    held(views)
    held.some([view(3, "1988-02-29", 150)])      # an old version: dropped by the full passes
    assert made == ["milestone-3"]
