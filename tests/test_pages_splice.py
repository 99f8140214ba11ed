"""Spliced pages (memoised fragments joined into a frame) equal the template's whole render.

Full and incremental passes both splice, so comparing them (tests/test_pages_live.py) would
not see a splice that both get wrong: here each tag, year and source page is compared with
the template rendered over all its items, on a first pass and on one that joins held parts.
"""

from __future__ import annotations

import dataclasses

from chronicle.config import Settings
from chronicle.domain import Milestone, Source
from chronicle.pages.builder import FEW_NEW, PageBuilder
from chronicle.pages.pagedata import read_page_data
from chronicle.pages.sources import source_pages
from chronicle.store import SqlEventStore
from tests.test_feeds_support import caught_up, milestone, record_all, revise_one

SHARED = Source(title="Shared source", quote="", url="https://example.org/shared")


def quoting(n: int, tags: tuple[str, ...]) -> Milestone:
    source = dataclasses.replace(SHARED, quote=f"Passage {n} of the shared source.")
    return dataclasses.replace(milestone(n, tags=tags), sources=(source,))


def test_spliced_listings_and_source_pages_equal_whole_renders(store: SqlEventStore) -> None:
    count = FEW_NEW * 2 + 3
    record_all(store, [quoting(n, ("trade", "aid") if n % 2 else ("trade",))
                       for n in range(count)])
    builder = PageBuilder(Settings(), caught_up(store), "mn")

    def check() -> None:
        data = read_page_data(builder.read_models)
        for tag in ("trade", "aid"):
            views = data.tagged(tag)
            whole = builder.renderer.tag(tag, views)
            assert builder.listing(lambda shown, card, t=tag: builder.renderer.tag(t, shown, card),
                                   views) == whole
        for year in data.years:
            views = data.in_year(year)
            assert builder.listing(lambda shown, card, y=year: builder.renderer.year(
                y, shown, data.years, card), views) == builder.renderer.year(year, views,
                                                                            data.years)
        (page,) = source_pages(data.milestones, None)
        assert len(page.passages) > FEW_NEW
        assert builder.source_page(page, False) == builder.renderer.source(page, False)

    check()     # the source page rendered whole and cut into its passages
    check()     # every card and passage held: joined
    revise_one(store, dataclasses.replace(quoting(3, ("trade",)), title="Revised"))
    check()     # one card and one passage rendered again
