"""The live source pages: after each change, exactly `source_pages` over the same milestones.

Passages the document has (by offset) and passages it lacks (by first citation), a
milestone quoting two passages of one source, a passage two milestones quote, a revised
quote, a changed URL (the page rebuilt whole) and a source no longer cited at all.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from chronicle.config import Settings
from chronicle.domain import Milestone, Source
from chronicle.pages.livedata import PageSet
from chronicle.pages.livesources import SourceSet
from chronicle.pages.pagedata import read_page_data
from chronicle.pages.sources import (
    Passage,
    SourcePage,
    passage_years,
    passages_by_year,
    source_pages,
)
from chronicle.store import SqlEventStore
from tests.test_feeds_support import caught_up, milestone, record_all, revise_one

DOCUMENT = "Alpha passage here. Beta passage there. Gamma passage last."
SHARED = "Shared document (Publisher)"


def cites(n: int, *sources: Source, date: str | None = None) -> Milestone:
    return dataclasses.replace(milestone(n, date=date), sources=sources)


def shared(quote: str, url: str | None = "https://example.org/doc") -> Source:
    return Source(title=SHARED, quote=quote, url=url, file="doc.txt")


def other(n: int) -> Source:
    return Source(title=f"Other {n}", quote=f"Other passage {n}.", url="https://example.org/o")


def by_year(page: SourcePage) -> dict[int, tuple[Passage, ...]]:
    """The passages of each year any of their citing milestones counts under."""
    years = sorted({year for passage in page.passages for year in passage_years(passage)})
    return {year: tuple(p for p in page.passages if year in passage_years(p)) for year in years}


def test_source_pages_kept_live_equal_a_full_build(store: SqlEventStore, tmp_path: Path) -> None:
    (tmp_path / "doc.txt").write_text(DOCUMENT, encoding="utf-8")
    settings = Settings(seeds_dir=tmp_path)
    record_all(store, [
        cites(0, shared("Beta passage there."), other(0), date="1990-05-01"),
        cites(1, shared("Not in the document, one."), date="1921-07-11"),
        cites(2, shared("Alpha passage  here."), other(2), date="2001-01-01"),
        cites(3, shared("Not in the document, three."), date="1950-02-02"),
    ])
    models = caught_up(store)
    pages = PageSet(read_page_data(models))
    live = SourceSet(pages.data.milestones, pages.keys, settings)
    assert live.ordered() == source_pages(pages.data.milestones, tmp_path)

    def step(change: object, *ids: str) -> set[str]:
        models = caught_up(store)
        moved = pages.advance(models.by_ids(ids), models.position())
        touched = live.move(moved)
        assert live.ordered() == source_pages(pages.data.milestones, tmp_path)
        for page in live.pages.values():     # the years kept with the page, as worked out
            assert passages_by_year(page) == by_year(page)
        return touched

    # New: two passages of one source (the first unplaced), one shared with milestone 2.
    touched = step(record_all(store, [cites(4, shared("Not in the document, four."),
                                            shared("Alpha passage here."), date="1900-01-01")]),
                   "feed-milestone-4")
    assert touched == {"shared-document"}
    page = live.pages["shared-document"]
    assert [p.offset is None for p in page.passages] == [False, False, True, True, True]
    assert [v.id for v in page.passages[0].citing] == ["feed-milestone-4", "feed-milestone-2"]
    assert page.passages[2].citing[0].id == "feed-milestone-4"   # 1900 before 1921
    years = passages_by_year(page)      # a passage under each citing milestone's year
    assert page.passages[0] in years[1900] and page.passages[0] in years[2001]
    assert live.years["shared-document"] == {1900, 2001}   # 2001: the passage it shares
    step(revise_one(store, cites(1, shared("Gamma passage last."), date="1921-07-11")),
         "feed-milestone-1")
    step(revise_one(store, cites(3, shared("Not in the document, three."), date="1800-01-01")),
         "feed-milestone-3")
    assert live.pages["shared-document"].passages[-2].citing[0].id == "feed-milestone-3"
    # The first citation's URL names the page's: the page is rebuilt whole.
    step(revise_one(store, cites(4, shared("Not in the document, four.", url=None),
                                 shared("Alpha passage here.", url=None), date="1900-01-01")),
         "feed-milestone-4")
    assert live.pages["shared-document"].url == "https://example.org/doc"
    touched = step(revise_one(store, cites(2, shared("Beta passage there."), date="2001-01-01")),
                   "feed-milestone-2")
    assert "other-2" in touched and "other-2" not in live.pages
