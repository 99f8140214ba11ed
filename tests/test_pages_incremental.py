"""Pages rendered incrementally (memoised pages, cards and calendar events) equal a fresh render.

The warm side renders after every change through one engine, so its memo carries over; the
cold side opens its own engine on the same database, which starts with an empty memo.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from chronicle.config import Settings
from chronicle.domain import Milestone, Source
from chronicle.feeds.model import Document
from chronicle.pages.builder import LISTING_LEVEL, _memo_for, documents, page_path
from chronicle.pages.pagedata import read_page_data
from chronicle.projections import ReadModels
from chronicle.store import SqlEventStore
from tests.test_feeds_support import caught_up, milestone, record_all, retract_one, revise_one

TODAY = dt.date(2026, 1, 20)
SETTINGS = Settings(feed={"base_url": "https://chronicle.test/site",
                          "tag_authority": "chronicle.test,2026"})


def rendered(models: ReadModels) -> dict[str, Document]:
    return {d.path: d for d in documents(SETTINGS, models, today=lambda _s: TODAY)}


def same_as_scratch(store: SqlEventStore, cold: ReadModels,
                    change: Callable[[], object]) -> dict[str, Document]:
    change()
    warm = rendered(caught_up(store))
    assert warm == rendered(cold)
    return warm


def test_incremental_pages_equal_a_fresh_render(store: SqlEventStore,
                                               cold: ReadModels) -> None:
    first = same_as_scratch(store, cold,
                            lambda: record_all(store, [milestone(n) for n in range(8)]))
    added = same_as_scratch(store, cold, lambda: record_all(store, [milestone(8)]))
    assert page_path("milestones", "feed-milestone-8") in added
    assert added["/index.html"].body != first["/index.html"].body

    revised = same_as_scratch(store, cold, lambda: revise_one(
        store, milestone(2, title="Revised title", date="1987-01-27", tags=("trade", "new"))))
    assert b"Revised title" in revised["/tags/new/index.html"].body
    assert b"Revised title" in revised["/calendar.ics"].body
    assert revised[page_path("milestones", "feed-milestone-5")] == \
        added[page_path("milestones", "feed-milestone-5")]

    gone = same_as_scratch(store, cold, lambda: retract_one(store, "feed-milestone-2"))
    assert "/tags/new/index.html" not in gone
    assert b"Revised title" not in gone["/calendar.ics"].body
    assert b"Revised title" in gone[page_path("milestones", "feed-milestone-2")].body

    same_as_scratch(store, cold, lambda: record_all(store, [milestone(n) for n in (9, 10)]))


def test_a_reused_listing_keeps_its_cards_for_its_next_change(store: SqlEventStore) -> None:
    """A tag page reused by one pass still has its cards memoised when a later pass changes it."""
    record_all(store, [milestone(n, tags=("alpha",), date="1987-01-27") for n in range(4)]
               + [milestone(4, tags=("beta",), date="1990-05-01")])
    rendered(caught_up(store))
    # The "alpha" and 1987 pages are reused from the memo; the "beta" and 1990 pages change.
    record_all(store, [milestone(5, tags=("beta",), date="1990-06-01")])
    models = caught_up(store)
    rendered(models)
    _, memo = _memo_for(SETTINGS, models.engine, "en")
    alpha = read_page_data(models).tagged("alpha")
    assert len(alpha) == 4

    def render_again() -> str:
        raise AssertionError("a card of the reused listing page was no longer held")

    for view in alpha:
        memo.latest(("card", LISTING_LEVEL, view.id), view.updated_position, render_again)


def test_split_pages_rendered_from_the_memo_equal_a_fresh_render(
        store: SqlEventStore, cold: ReadModels) -> None:
    """Tag and source year pages (`feed.listing_size`) reused from the memo, across a split."""
    split = Settings(feed={**SETTINGS.feed.model_dump(), "listing_size": 3})

    def same(change: Callable[[], object]) -> dict[str, Document]:
        change()
        warm = {d.path: d for d in documents(split, caught_up(store), today=lambda _s: TODAY)}
        assert warm == {d.path: d for d in documents(split, cold, today=lambda _s: TODAY)}
        return warm

    same(lambda: record_all(store, [shared_source(n, "trade") for n in range(3)]))
    crossed = same(lambda: record_all(store, [shared_source(3, "trade")]))
    assert "/tags/trade/1990/index.html" in crossed
    assert "/sources/shared/1991/index.html" in crossed
    same(lambda: revise_one(store, shared_source(1, "trade", title="Revised title")))
    same(lambda: retract_one(store, "feed-milestone-0"))


def shared_source(n: int, *tags: str, title: str | None = None) -> Milestone:
    return dataclasses.replace(
        milestone(n, date=f"{1990 + n % 2}-0{n + 1}-15", tags=tags, title=title),
        sources=(Source(title="Shared (Press)", quote=f"Passage {n}.", url="https://e.org/"),))
