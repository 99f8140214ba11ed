"""The calendar kept by month-day between refreshes, with an ETag made from its parts' digests.

A calendar holds every milestone known to the day: at 100,000 milestones about 20 MB a
language. Rebuilt after each change of one such milestone, its events looked up one by one,
joined and hashed whole for the ETag, it cost a refresh ~100 ms more at that size. Here each
month-day's events are held joined, with their SHA-256; a change re-joins only the month-days
its milestones leave or join, and the ETag hashes the parts' digests (a few hundred), so a
refresh hashes tens of kilobytes. The body is still joined whole: it is what is served.

The ETag is a function of the bytes alone, as a strong validator must be (RFC 9110 §8.8.1):
the parts are the calendar's head, then each month-day's events in order (a month-day is in
its events' DTSTART), then its end, so equal bytes have equal parts on every server and after
every restart; a changed body changes a part, hence the ETag (SHA-256 on both levels).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
from collections.abc import Collection, Sequence

from chronicle.pages.ical import CALENDAR_END, STAMP, HeldEvents, Stamp
from chronicle.projections import MilestoneView

MonthDay = tuple[int, int]
END_DIGEST = hashlib.sha256(CALENDAR_END).digest()


def month_day(view: MilestoneView) -> MonthDay:
    """What the calendar's milestones are ordered by first (`PageData.day_precision`)."""
    found = view.milestone.date.month_day()
    if found is None:
        raise ValueError(f"{view.id} is not known to the day: it has no anniversary")
    return found


def parts_etag(head: bytes, digests: Sequence[bytes]) -> bytes:
    """The strong ETag of a calendar whose month-days' events have SHA-256 `digests`."""
    whole = hashlib.sha256(hashlib.sha256(head).digest())
    whole.update(b"".join(digests))
    whole.update(END_DIGEST)
    return b'"' + whole.hexdigest()[:40].encode() + b'"'


class HeldCalendar:
    """One language's calendar between refreshes: each month-day's events joined, by stamps.

    `position`: the log position the held parts were made at (None: none yet). A refresh
    that names the month-days it changed since that position re-joins only those; any other
    call (a full pass, or a caller at another position) makes every part again.
    """

    def __init__(self, events: HeldEvents) -> None:
        self.events = events
        self.position: int | None = None
        self._days: dict[MonthDay, tuple[tuple[Stamp, ...], bytes, bytes]] = {}

    def render(self, views: Sequence[MilestoneView], head: bytes, position: int,
               changed: Collection[MonthDay] | None = None, since: int | None = None
               ) -> tuple[bytes, bytes]:
        """The calendar of `views` (every milestone known to the day, by month-day, then
        historical order) after `head`, and its ETag; `changed`: the only month-days whose
        milestones moved since `since` (None: any may have)."""
        whole = changed is None or since is None or since != self.position
        self.position = None    # until the parts stand again (a failure leaves them partial)
        if whole:
            self._whole(views)
        else:
            for day in changed or ():
                self._day(views, day)
        self.position = position
        days = sorted(self._days)
        parts = [self._days[day] for day in days]
        body = b"".join([head, *(part[1] for part in parts), CALENDAR_END])
        return body, parts_etag(head, [part[2] for part in parts])

    def moved(self, since: int, position: int) -> None:
        """The log moved from `since` to `position` without changing any milestone known to
        the day: the parts held at `since` still stand."""
        if self.position == since:
            self.position = position

    def _whole(self, views: Sequence[MilestoneView]) -> None:
        events = self.events(views)
        self._days = {}
        at = 0
        for day, group in itertools.groupby(map(month_day, views)):
            count = sum(1 for _ in group)
            self._put(day, views[at:at + count], events[at:at + count])
            at += count

    def _day(self, views: Sequence[MilestoneView], day: MonthDay) -> None:
        low = bisect.bisect_left(views, day, key=month_day)
        high = bisect.bisect_right(views, day, low, key=month_day)
        old = self._days.pop(day, None)
        shown = views[low:high]
        if shown:
            self._put(day, shown, self.events.some(shown))
        if old is not None:    # the versions no longer shown leave the held events
            self.events.forget(set(old[0]) - set(self._days.get(day, ((),))[0]))

    def _put(self, day: MonthDay, views: Sequence[MilestoneView], events: list[bytes]) -> None:
        joined = b"".join(events)
        self._days[day] = (tuple(map(STAMP, views)), joined, hashlib.sha256(joined).digest())
