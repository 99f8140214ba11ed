"""The server's live pages: after every kind of change, exactly a from-scratch render's documents.

Each step changes the log through the real domain commands, catches the real projector up,
refreshes the same LivePages and compares every document (path, bytes, media type,
Last-Modified and the ETag a document brings: the calendars'), English and Mongolian, with
`documents` over a second engine on the same database (an empty memo), on SQLite and
PostgreSQL. The one difference allowed is the one the module states: a dated page (a tag, year
or source page, the calendars, the 404) whose bytes a refresh left as they were keeps its
Last-Modified, which a full render moves to the snapshot's time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from chronicle.config import Settings
from chronicle.domain import Milestone, Source
from chronicle.feeds.model import Document
from chronicle.pages.builder import documents, page_path
from chronicle.pages.live import LivePages
from chronicle.pages.pagedata import read_page_data
from chronicle.pages.render import PageRenderer
from chronicle.pages.sources import SourcePage
from chronicle.projections import ReadModels
from chronicle.store import SqlEventStore
from tests.test_feeds_support import caught_up, milestone, record_all, retract_one, revise_one

TODAY = dt.date(2026, 1, 20)
SETTINGS = Settings(feed={"base_url": "https://chronicle.test/site",
                          "tag_authority": "chronicle.test,2026", "languages": ["en", "mn"]})


def scratch(models: ReadModels, settings: Settings = SETTINGS) -> dict[str, Document]:
    return {d.path: d for d in documents(settings, models, today=lambda _s: TODAY, cards=False)}


def same_as_scratch(store: SqlEventStore, live: LivePages, cold: ReadModels,
                    change: Callable[[], object], *, incremental: bool = True,
                    settings: Settings = SETTINGS) -> dict[str, Document]:
    """Apply `change`, refresh; the live documents must be a full render's, field by field,
    but that a dated page a refresh left with its bytes keeps the document it had (its
    Last-Modified)."""
    before = dict(live.documents)
    change()
    models = caught_up(store)
    outcome = live.refresh(models.position())
    assert (outcome.changed is not None) == incremental
    expected = scratch(cold, settings)
    assert sorted(live.documents) == sorted(expected)
    for path, document in expected.items():
        mine, held = live.documents[path], before.get(path)
        if (incremental and held is not None and held.body == document.body
                and document.route in live.dated_routes):
            assert mine is held, path
            assert mine.last_modified <= document.last_modified, path
            continue
        assert (mine.body, mine.media_type, mine.last_modified, mine.route, mine.etag) == (
            document.body, document.media_type, document.last_modified, document.route,
            document.etag), path
    assert live.pages is not None and live.pages.data == read_page_data(cold)
    return dict(live.documents)


def quoted(n: int, title: str) -> Source:
    return Source(title=title, quote=f"Passage {n} of a shared source.",
                  url="https://example.org/shared")


def test_live_pages_equal_a_full_render_after_every_kind_of_change(
        store: SqlEventStore, cold: ReadModels) -> None:
    record_all(store, [milestone(n) for n in range(8)])
    live = LivePages(SETTINGS, caught_up(store), cards=False, today=lambda _s: TODAY)
    first = same_as_scratch(store, live, cold, lambda: None, incremental=False)

    added = same_as_scratch(store, live, cold, lambda: record_all(store, [milestone(8)]))
    assert page_path("milestones", "feed-milestone-8") in added
    assert added["/mn/index.html"].body != first["/mn/index.html"].body
    assert added["/tags/visits/index.html"] is first["/tags/visits/index.html"] or (
        added["/tags/visits/index.html"].body is first["/tags/visits/index.html"].body)

    revised = same_as_scratch(store, live, cold, lambda: revise_one(
        store, milestone(2, title="Revised title", date="1987-01-27", tags=("trade", "new"))))
    assert b"Revised title" in revised["/tags/new/index.html"].body
    assert b"Revised title" in revised["/mn/calendar.ics"].body
    # The calendars' ETags (from their month-days' digests): kept with the bytes (milestone
    # 8 is known to the year only), changed with them.
    for calendar in ("/calendar.ics", "/mn/calendar.ics", "/mn/feeds/anniversaries.ics"):
        assert added[calendar].body == first[calendar].body, calendar
        assert added[calendar].etag == first[calendar].etag is not None, calendar
        assert revised[calendar].etag != added[calendar].etag, calendar

    # A new year (every year page links its neighbours) and a new tag, then a dropped tag.
    same_as_scratch(store, live, cold, lambda: record_all(
        store, [milestone(9, date="1921-07-11", tags=("independence",))]))
    moved = same_as_scratch(store, live, cold, lambda: revise_one(
        store, milestone(9, date="1930-03-01", tags=("diplomacy",))))
    assert "/tags/independence/index.html" not in moved
    assert "/years/1921/index.html" not in moved

    # Sources shared by many milestones (their pages are cut into passages), one revised
    # away from it.
    shared = [dataclasses.replace(milestone(n), sources=(quoted(n, "Shared (Press)"),))
              for n in range(10, 23)]
    same_as_scratch(store, live, cold, lambda: record_all(store, shared))
    same_as_scratch(store, live, cold, lambda: revise_one(
        store, dataclasses.replace(shared[1], sources=(quoted(11, "Other (Press)"),))))

    gone = same_as_scratch(store, live, cold, lambda: retract_one(store, "feed-milestone-2"),
                           incremental=False)
    assert "/tags/new/index.html" not in gone
    same_as_scratch(store, live, cold, lambda: record_all(store, [milestone(n) for n in (23, 24)]))
    same_as_scratch(store, live, cold, lambda: record_all(store, [dataclasses.replace(
        milestone(25), sources=(quoted(25, "Shared (Press)"),))]))


BOUNDED = Settings(feed={**SETTINGS.feed.model_dump(), "home_size": 3})
NOT_SHOWN = {"en": "The {} earlier milestones are not shown here.",
             "mn": "Өмнөх {} үйл явдлыг энд харуулаагүй."}


def between(body: bytes, start: str, end: str) -> str:
    text = body.decode()
    return text[text.index(start):text.index(end, text.index(start))]


def assert_home_shows(docs: dict[str, Document], shown: list[int], hidden: int, years: int
                      ) -> None:
    """The timeline and its picture hold exactly `shown`, the page says `hidden` and links
    every one of the `years` pages."""
    for language, prefix in (("en", ""), ("mn", "/mn")):
        body = docs[f"{prefix}/index.html"].body
        timeline = between(body, '<div id="timeline"', '<section id="years"')
        svg = between(body, '<figure class="timeline-picture"', "</figure>")
        for part in (timeline, svg):
            linked = {n for n in range(40) if f"/milestones/feed-milestone-{n}/" in part}
            assert linked == set(shown), (language, part)
        assert f'data-hidden="{hidden}"' in timeline
        assert NOT_SHOWN[language].format(hidden) in timeline
        assert '<a href="#years">' in timeline
        listed = between(body, '<section id="years"', "</section>")
        assert listed.count(f'<a href="/site{prefix}/years/') == years


def test_the_home_page_holds_the_most_recent_home_size_milestones(
        store: SqlEventStore, cold: ReadModels) -> None:
    """Above `feed.home_size`, the newest end of the timeline, live as from scratch."""
    record_all(store, [milestone(n, date=f"{1990 + n}-{n + 2:02d}-15") for n in range(10)])
    live = LivePages(BOUNDED, caught_up(store), cards=False, today=lambda _s: TODAY)
    first = same_as_scratch(store, live, cold, lambda: None, incremental=False,
                            settings=BOUNDED)
    assert_home_shows(first, [7, 8, 9], 7, 10)
    assert first["/index.html"].body.count(b"/milestones/feed-milestone-0/") == 1  # upcoming
    newest = same_as_scratch(store, live, cold, lambda: record_all(
        store, [milestone(10, date="2005-06-01")]), settings=BOUNDED)
    assert_home_shows(newest, [8, 9, 10], 8, 11)
    older = same_as_scratch(store, live, cold, lambda: record_all(
        store, [milestone(11, date="1975-06-01")]), settings=BOUNDED)
    assert_home_shows(older, [8, 9, 10], 9, 12)


def test_the_home_page_at_its_limit_is_the_unbounded_page(
        store: SqlEventStore, cold: ReadModels) -> None:
    record_all(store, [milestone(n, date=f"{1990 + n}-{n + 2:02d}-15") for n in range(3)])
    caught_up(store)
    bounded, unbounded = scratch(cold, BOUNDED), scratch(cold)
    for path in ("/index.html", "/mn/index.html"):
        assert bounded[path].body == unbounded[path].body
        assert b"data-hidden" not in bounded[path].body


SPLIT = Settings(feed={**SETTINGS.feed.model_dump(), "listing_size": 3})


def on(n: int, date: str, *tags: str) -> Milestone:
    """Milestone n on `date`, tagged `tags`, quoting passage n of the shared source."""
    return dataclasses.replace(milestone(n, date=date, tags=tags),
                               sources=(quoted(n, "Shared (Press)"),))


def test_split_tag_and_source_pages_kept_live_equal_a_full_render(
        store: SqlEventStore, cold: ReadModels) -> None:
    """A tag and a source crossing `feed.listing_size` both ways, a tag's year appearing and
    going, a milestone moving between years: live as from scratch."""
    record_all(store, [on(n, f"{1990 + n % 2}-0{n + 1}-15", "trade") for n in range(3)])
    live = LivePages(SPLIT, caught_up(store), cards=False, today=lambda _s: TODAY)
    first = same_as_scratch(store, live, cold, lambda: None, incremental=False, settings=SPLIT)
    assert "/tags/trade/1990/index.html" not in first
    assert b'<ol class="milestones">' in first["/tags/trade/index.html"].body

    crossed = same_as_scratch(store, live, cold, lambda: record_all(
        store, [on(3, "1991-06-01", "trade", "visits")]), settings=SPLIT)
    for prefix in ("", "/mn"):
        for page in ("/tags/trade/", "/sources/shared/"):
            assert f"{prefix}{page}1990/index.html" in crossed
            assert f"{prefix}{page}1991/index.html" in crossed
            assert b'<ol class="milestones">' not in crossed[f"{prefix}{page}index.html"].body
    assert "/tags/visits/1991/index.html" not in crossed

    same_as_scratch(store, live, cold, lambda: record_all(
        store, [on(4, "1991-07-01", "trade")]), settings=SPLIT)
    added = same_as_scratch(store, live, cold, lambda: record_all(
        store, [on(5, "1975-01-01", "trade")]), settings=SPLIT)      # a new year, linked
    assert b"/site/tags/trade/1975/" in added["/tags/trade/1990/index.html"].body
    moved = same_as_scratch(store, live, cold, lambda: revise_one(
        store, on(5, "1991-08-01", "trade")), settings=SPLIT)        # and gone again
    assert "/tags/trade/1975/index.html" not in moved
    assert "/sources/shared/1975/index.html" not in moved
    same_as_scratch(store, live, cold, lambda: revise_one(
        store, on(0, "1990-01-15", "trade", "visits")), settings=SPLIT)
    same_as_scratch(store, live, cold, lambda: record_all(
        store, [on(6, "1991-09-01", "visits"), on(7, "1992-01-01", "visits")]), settings=SPLIT)
    dropped = same_as_scratch(store, live, cold, lambda: [revise_one(
        store, dataclasses.replace(on(n, date, "visits"), sources=(quoted(n, "Other (Press)"),)))
        for n, date in ((3, "1991-06-01"), (4, "1991-07-01"), (5, "1991-08-01"),
                        (6, "1991-09-01"), (7, "1992-01-01"))], settings=SPLIT)
    for page in ("/tags/trade/", "/sources/shared/"):                # back to one page
        assert b'<ol class="' in dropped[f"{page}index.html"].body
        assert not any(path.startswith(page + "1") for path in dropped)
    assert "/sources/other/1991/index.html" in dropped


def test_the_year_index_rows_held_follow_their_counts() -> None:
    """A tag's or source's index of years holds each year's row between renders (the
    renderer is shared by the live pages and a full render): each render equals a fresh
    renderer's as the counts change, years come and go."""
    held = PageRenderer(SPLIT, "mn")
    page = SourcePage("shared", "Shared", "Press", None, ())
    for counts in ({1990: 1, 1991: 2}, {1990: 1, 1991: 3}, {1975: 1, 1990: 1, 1991: 3},
                   {1991: 3}, {1990: 1, 1991: 2}):
        fresh = PageRenderer(SPLIT, "mn")
        assert held.tag_index("trade", counts) == fresh.tag_index("trade", counts)
        assert held.source_index(page, counts, True) == fresh.source_index(page, counts, True)
    assert b'1991 <span class="count">2</span>' in held.tag_index("trade", counts)


def test_a_refresh_moves_the_last_modified_of_the_pages_it_changed_only(
        store: SqlEventStore, cold: ReadModels) -> None:
    """A new milestone tagged "trade" moves the trade page's Last-Modified to the snapshot's
    time; the visits page, whose bytes stand, keeps its document and its date (it used to be
    re-dated, with every other tag, year and source page, on each refresh); a restart's full
    render dates both to the snapshot."""
    record_all(store, [milestone(n, tags=("trade",) if n % 2 else ("visits",))
                       for n in range(6)])
    live = LivePages(SETTINGS, caught_up(store), cards=False, today=lambda _s: TODAY)
    first = same_as_scratch(store, live, cold, lambda: None, incremental=False)
    trade, visits = "/mn/tags/trade/index.html", "/tags/visits/index.html"
    visits_before = first[visits]

    after = same_as_scratch(store, live, cold, lambda: record_all(
        store, [milestone(7, tags=("trade",))]))
    restarted = scratch(cold)
    assert after[visits] is visits_before
    assert after[visits].last_modified < restarted[visits].last_modified
    assert after[visits].body == restarted[visits].body
    assert after[trade].body != first[trade].body
    assert after[trade].last_modified == restarted[trade].last_modified > first[trade].last_modified


def test_a_document_is_the_same_but_for_its_date_only_when_every_other_field_is() -> None:
    """`Document.same_but_date` (what a refresh keeps a dated page's document by) looks at
    every field but Last-Modified, those equality leaves out (route, ETag) too."""
    page = Document("/tags/a/index.html", b"<p>a</p>", "text/html",
                    dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "/tags/{tag}", 200, b'"a"')
    later = dataclasses.replace(page, last_modified=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    assert page.same_but_date(later) and later.same_but_date(page)
    others = {"path": "/tags/b/index.html", "body": b"<p>b</p>", "media_type": "text/plain",
              "route": "/years/{year}", "status": 410, "etag": b'"b"'}
    assert {f.name for f in dataclasses.fields(Document)} == {*others, "last_modified"}
    for name, value in others.items():
        assert not page.same_but_date(dataclasses.replace(later, **{name: value})), name
