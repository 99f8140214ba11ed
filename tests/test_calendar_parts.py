"""The calendar held by month-day (chronicle.pages.calendarparts): the parts a refresh keeps
make the bytes of a calendar rendered whole, and only a caller at the held position may name
the month-days that changed (any other gets every part made again)."""

from __future__ import annotations

from functools import partial

from chronicle.pages.calendarparts import HeldCalendar, parts_etag
from chronicle.pages.ical import HeldEvents, calendar_head, event_ical, render_calendar
from chronicle.projections import MilestoneView
from chronicle.store import SqlEventStore
from tests.factories import make_milestone, record_milestones
from tests.test_calendar import read_models, settings


def held() -> HeldCalendar:
    return HeldCalendar(HeldEvents(partial(event_ical, settings=settings())))


def whole(views: list[MilestoneView]) -> tuple[bytes, bytes]:
    return held().render(views, calendar_head(settings(), None, "en"), 0)


def test_kept_parts_equal_a_whole_calendar_and_a_caller_elsewhere_remakes_them(
        store: SqlEventStore) -> None:
    head = calendar_head(settings(), None, "en")
    record_milestones(store, [make_milestone(1, date="1987-01-27"),
                              make_milestone(2, date="1990-01-27"),
                              make_milestone(3, date="2004-10-18")])
    first = read_models(store).day_precision()
    calendar = held()
    body, etag = calendar.render(first, head, 1)
    assert body == render_calendar(first, settings())          # the same bytes as before
    assert (body, etag) == whole(first)

    record_milestones(store, [make_milestone(4, date="1921-07-11")])
    second = read_models(store).day_precision()
    body, etag = calendar.render(second, head, 2, changed={(7, 11)}, since=1)
    assert (body, etag) == whole(second) and body == render_calendar(second, settings())

    # Moved on elsewhere (position 3, a new 18 October): a caller that names only its own
    # change since a position the parts were not made at gets every part made again.
    record_milestones(store, [make_milestone(5, date="1999-10-18"),
                              make_milestone(6, date="1950-01-27")])
    third = read_models(store).day_precision()
    calendar.render(third[:-1], head, 3)
    body, etag = calendar.render(third, head, 4, changed={(1, 27)}, since=2)
    assert (body, etag) == whole(third)


def test_the_etag_follows_every_part() -> None:
    digests = [bytes([n]) * 32 for n in range(3)]
    etag = parts_etag(b"HEAD", digests)
    assert etag.startswith(b'"') and etag.endswith(b'"') and len(etag) == 42
    assert parts_etag(b"HEAD", digests) == etag
    assert parts_etag(b"HEAD2", digests) != etag
    assert parts_etag(b"HEAD", digests[:2]) != etag
    assert parts_etag(b"HEAD", [digests[1], digests[0], digests[2]]) != etag
