"""Seeing the day before it comes: ``rehearse`` (one date, nothing written to the log) and
``preflight`` (every channel's credentials, every post of the next days, their lengths and
approval).

A rehearsal runs the posting path up to the publisher's door: the posts due, each channel's
text as it would be sent (an approved or edited draft, else the composed text), its length
against the channel's limit, the approval state, the image and the link, and every reason
that would stop it. It records no draft and asks no channel anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from chronicle.cards import CardFontMissing, check_fonts
from chronicle.posting.anniversaries import PlannedPost, Unposted, local_today
from chronicle.posting.review import QueueEntry, ReviewDesk
from chronicle.publishers import ChannelCheck


@dataclass(frozen=True, kw_only=True, slots=True)
class Rehearsed:
    """One post of the rehearsed day and what would stop it (empty: it would go out)."""

    entry: QueueEntry
    link: str
    image: str
    stops: tuple[str, ...]

    @property
    def ready(self) -> bool:
        return not self.stops


def _link(post: PlannedPost, base_url: str) -> str:
    prefix = "" if post.language == "en" else f"/{post.language}"
    return ", ".join(f"{base_url}{prefix}/milestones/{m}" for m in post.milestone_ids)


def rehearse(desk: ReviewDesk, local_date: dt.date, channels: list[str] | None = None,
             languages: list[str] | None = None) -> list[Rehearsed]:
    """What would go out where on `local_date`, and what would stop it; writes nothing."""
    return rehearse_day(desk, local_date, channels, languages)[0]


def rehearse_day(desk: ReviewDesk, local_date: dt.date, channels: list[str] | None = None,
                 languages: list[str] | None = None
                 ) -> tuple[list[Rehearsed], list[Unposted]]:
    """The rehearsal, and the milestones that get no post in some language that day."""
    service = desk.service
    chosen = service.check_channels(channels)
    require = service.require_approval
    found = []
    day = service.planner().plan_day(local_date, chosen, languages)
    for post in day.posts:
        entry = desk.entry(post, service.state(post))
        stops = []
        if entry.text is None:
            stops.append(f"no text fits ({post.problem})")
        elif not entry.fits:
            stops.append(f"too long: {entry.length} > {entry.max_length}")
        if entry.state == "held":
            stops.append("held by an editor or at its time; approve it to send it")
        elif require and entry.state in ("draft", "scheduled"):
            stops.append(f"not approved (posting.require_approval): `chronicle approve "
                         f"{post.key}`")
        elif not post.reviewed and entry.state in ("draft", "scheduled"):
            stops.append(f"translation not reviewed ({post.language}, reviewed: false): only "
                         f"an approved text goes out: `chronicle approve {post.key}`")
        if entry.state in ("published", "skipped", "failed", "sending"):
            stops.append(f"already {entry.state}")
        found.append(Rehearsed(entry=entry, link=_link(post, service.settings.feed.base_url),
                               image=entry.image, stops=tuple(stops)))
    return found, day.unposted


@dataclass(frozen=True, kw_only=True, slots=True)
class Preflight:
    """Every channel's check and every post of the next days, rehearsed."""

    checks: list[ChannelCheck]
    posts: list[Rehearsed]

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks) and all(p.ready for p in self.posts)


def card_fonts_check() -> ChannelCheck:
    """Whether the card images can be drawn (the fonts, Cyrillic included, are installed)."""
    try:
        check_fonts()
    except CardFontMissing as exc:
        return ChannelCheck(channel="card images", ok=False, detail=str(exc))
    return ChannelCheck(channel="card images", ok=True,
                        detail="DejaVu Sans found (Latin and Cyrillic)")


def preflight(desk: ReviewDesk, days: int) -> Preflight:
    """Channels' credentials (read-only calls), the card fonts when `posting.images` is on,
    and the posts due in the next `days` days."""
    service = desk.service
    checks = [publisher.preflight() for publisher in service.publishers.values()]
    if service.settings.posting.images:
        checks.append(card_fonts_check())
    today = local_today(service.clock.now(), service.settings.posting)
    now = service.clock.now()
    posts = [r for n in range(days) for r in rehearse(desk, today + dt.timedelta(days=n))
             if r.entry.post.window_end(service.grace) >= now
             and r.entry.state != "published"]
    return Preflight(checks=checks, posts=posts)
