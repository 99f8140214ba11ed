"""The home page's SVG timeline over the shipped data set: one linked mark per milestone."""

from __future__ import annotations

import itertools

import lxml.html

from chronicle.config import Settings
from chronicle.loader import load_sources
from chronicle.pages.builder import documents
from chronicle.pages.eras import era_of
from chronicle.pages.timeline_svg import RADIUS, picture
from chronicle.store import SqlEventStore
from tests.test_feeds_support import REPO, caught_up


def test_every_milestone_is_a_linked_mark_placed_by_date(store: SqlEventStore) -> None:
    settings = Settings(base_dir=REPO)
    load_sources(store, settings)
    models = caught_up(store)
    views = models.milestones()
    docs = {d.path: d for d in documents(settings, models)}
    home = lxml.html.document_fromstring(docs["/index.html"].body)
    svg = home.xpath("//figure[@class='timeline-picture']/*[local-name()='svg']")[0]
    hrefs = svg.xpath(".//*[local-name()='a'][@class='tl-mark']/@href")
    assert len(hrefs) == len(views) == 89
    assert all(f"{href}index.html" in docs for href in hrefs)   # every mark opens a page
    # Tags are listed once on the page (the script turns that list into filter buttons).
    assert len(home.xpath("//a[@data-tag='visits']")) == 1

    pic = picture(views)
    assert pic is not None
    xs = [mark.x for mark in pic.marks]
    assert xs == sorted(xs)                                     # historical order, left to right
    for _, row in itertools.groupby(sorted(pic.marks, key=lambda m: (m.y, m.x)),
                                    key=lambda m: m.y):
        placed = [mark.x for mark in row]
        assert all(b - a >= 2 * RADIUS for a, b in itertools.pairwise(placed))
    for mark in pic.marks:        # each mark lies on its era's band
        band = next(b for b in pic.bands
                    if b.era == era_of(mark.view.milestone.date.first_day().year))
        assert band.x <= mark.x <= band.x + band.width
