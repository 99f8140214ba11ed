"""Pages rendered from real read models (SQLite and PostgreSQL), parsed back as HTML."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path

import lxml.html
import pytest

from chronicle.config import Settings
from chronicle.dates import HistoricalDate
from chronicle.domain import Milestone, Source, retract, revise
from chronicle.feeds.model import Document
from chronicle.pages.builder import GONE_ROUTE, INDEX_PATH, NOT_FOUND_PATH, documents, page_path
from chronicle.pages.sources import passage_anchor
from chronicle.pages.upcoming import anniversary_in, next_anniversaries
from chronicle.projections import Projector, ReadModels
from chronicle.repository import Decision, MilestoneRepository
from chronicle.store import SqlEventStore
from tests.factories import make_milestone, record_milestones

TODAY = dt.date(2026, 1, 20)
HOSTILE = "<script>alert('x')</script> & \"quotes\" Улаанбаатар ᠮᠣᠩᠭᠣᠯ שלום 🎉"


def settings(**feed: object) -> Settings:
    return Settings(feed={"base_url": "https://chronicle.example.org", **feed},
                    posting={"feb29_rule": "feb28"})


def sourced(n: int, date: str, title: str, **extra: object) -> Milestone:
    base = make_milestone(n, date=date, title=title, tags=("diplomacy",))
    fields = {f: getattr(base, f) for f in ("id", "title", "date", "summary", "tags", "people",
                                              "places")}
    fields.update(extra)
    fields.setdefault("sources", (Source(title="State Department fact sheet",
                                         url="https://www.state.gov/mongolia",
                                         quote="Relations were established in 1987."),))
    return Milestone(**fields)  # type: ignore[arg-type]


def project(store: SqlEventStore) -> ReadModels:
    projector = Projector(store)
    projector.prepare()
    projector.catch_up()
    return ReadModels(store.engine)


@pytest.fixture
def site(store: SqlEventStore) -> dict[str, Document]:
    """A small chronicle: five eras, a revision, a retraction, hostile text, a source URL."""
    record_milestones(store, [
        sourced(1, "1862", "Travel pass"),
        sourced(2, "1987-01-27", "Relations established",
                notes="The sources disagree on the rank.\n\nSecond paragraph.",
                people=("George Shultz",), places=("Washington, D.C.",)),
        sourced(3, "1991-01-22/1991-01-24", "Ochirbat visits Washington"),
        sourced(4, "2005-11-21", HOSTILE, tags=("visits", "diplomacy")),
        sourced(5, "2019-07", "Strategic partnership"),
        sourced(6, "1990", "Withdrawn milestone"),
    ])
    repo = MilestoneRepository(store)
    state = repo.get("milestone-2")
    changed = sourced(2, "1987-01-27", "The United States and Mongolia establish relations",
                      notes=state.milestone.notes if state.milestone else None,
                      people=("George Shultz",), places=("Washington, D.C.",))
    repo.save([Decision(state, revise(state, changed, "fuller title"))], {"by": "tests"})
    gone = repo.get("milestone-6")
    repo.save([Decision(gone, retract(gone, "no source supports it"))], {"by": "tests"})
    models = project(store)
    return {d.path: d for d in documents(settings(), models, today=lambda _s: TODAY)}


def parse(document: Document) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(document.body.decode("utf-8"))


def texts(tree: lxml.html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in tree.xpath(xpath)]


def test_the_site_publishes_every_page_once(site: dict[str, Document]) -> None:
    assert {INDEX_PATH, NOT_FOUND_PATH, "/calendar.ics", "/feeds/anniversaries.ics",
            "/assets/chronicle.css", "/assets/filter.js"} <= set(site)
    milestone_pages = {p for p in site if p.startswith("/milestones/")}
    assert milestone_pages == {page_path("milestones", f"milestone-{n}") for n in range(1, 7)}
    assert {p for p in site if p.startswith("/tags/")} == {"/tags/diplomacy/index.html",
                                                           "/tags/visits/index.html"}
    assert {p for p in site if p.startswith("/years/")} == {
        f"/years/{y}/index.html" for y in (1862, 1987, 1991, 2005, 2019)}
    assert all(d.media_type == "text/html; charset=utf-8" for p, d in site.items()
               if p.endswith(".html"))
    assert site[page_path("milestones", "milestone-6")].route == GONE_ROUTE


def test_timeline_lists_milestones_by_era_and_year_with_tags_and_feeds(
        site: dict[str, Document]) -> None:
    tree = parse(site[INDEX_PATH])
    eras = texts(tree, "//section[@class='era']/h2")
    assert eras == ["Early contacts 1862–1945", "Cold War & recognition 1946–1987",
                    "Democratic transition 1988–1999", "Partnership 2000–2018",
                    "Strategic partnership 2019–"]
    assert texts(tree, "//section[@class='year']/h3") == ["1862", "1987", "1991", "2005", "2019"]
    cards = tree.xpath("//li[@class='milestone']")
    assert [c.get("id") for c in cards] == [f"m-milestone-{n}" for n in (1, 2, 3, 4, 5)]
    assert "Withdrawn milestone" not in site[INDEX_PATH].body.decode()
    assert texts(tree, "//li[@id='m-milestone-3']//time") == ["22–24 January 1991"]
    assert tree.xpath("//li[@id='m-milestone-3']//time/@datetime") == ["1991-01-22"]
    tag_links = tree.xpath("//nav[@id='tags']//a")
    assert [(a.get("href"), a.get("data-tag")) for a in tag_links] == [
        ("/tags/diplomacy/", "diplomacy"), ("/tags/visits/", "visits")]
    alternates = {(link.get("type"), link.get("href"))
                  for link in tree.xpath("//head/link[@rel='alternate'][@type]")}
    assert alternates == {("application/atom+xml", "/feeds/milestones.atom"),
                          ("application/rss+xml", "/feeds/milestones.rss"),
                          ("application/feed+json", "/feeds/milestones.json"),
                          ("text/calendar", "/calendar.ics")}
    assert tree.xpath("//link[@rel='canonical']/@href") == ["https://chronicle.example.org/"]


def test_next_anniversary_on_the_home_page(site: dict[str, Document]) -> None:
    upcoming = parse(site[INDEX_PATH]).xpath("//section[@class='upcoming']")[0]
    assert upcoming.xpath(".//time/@datetime")[0] == "2026-01-22"
    text = " ".join(upcoming.text_content().split())
    assert "22 January 2026 (in 2 days)" in text
    assert "Ochirbat visits Washington: the 35th anniversary of 22–24 January 1991" in text


def test_the_home_page_lists_a_crowded_day_up_to_its_limit(store: SqlEventStore) -> None:
    """Twelve milestones on 22 January: the first ten in historical order, and how many more."""
    record_milestones(store, [sourced(n, f"{1900 + n}-01-22", f"Day one {n}") for n in range(12)])
    home = {d.path: d for d in documents(settings(), project(store), today=lambda _s: TODAY,
                                         cards=False)}[INDEX_PATH]
    upcoming = parse(home).xpath("//section[@class='upcoming']")[0]
    assert [a.text for a in upcoming.xpath(".//li/a")] == [f"Day one {n}" for n in range(10)]
    assert upcoming.xpath("./p[@class='muted']")[0].text == "And 2 more anniversaries that day."


def test_hostile_text_is_escaped_everywhere(site: dict[str, Document]) -> None:
    for path in (INDEX_PATH, page_path("milestones", "milestone-4"), "/tags/visits/index.html"):
        body = site[path].body.decode()
        assert "<script>alert" not in body, path
        tree = parse(site[path])
        assert [s.get("src") for s in tree.xpath("//script")] in ([], ["/assets/filter.js"])
        assert HOSTILE in " ".join(texts(tree, "//h1 | //h2 | //h4")), path


def test_milestone_page_shows_sources_notes_people_and_history(
        site: dict[str, Document]) -> None:
    tree = parse(site[page_path("milestones", "milestone-2")])
    assert texts(tree, "//h1") == ["The United States and Mongolia establish relations"]
    assert texts(tree, "//article//p[@class='date']") == ["27 January 1987"]
    assert texts(tree, "//dl[@class='facts']/dd") == ["George Shultz", "Washington, D.C."]
    quote = tree.xpath("//ol[@class='sources']//blockquote")[0]
    assert quote.get("cite") == "https://www.state.gov/mongolia"
    assert " ".join(quote.text_content().split()) == "Relations were established in 1987."
    assert tree.xpath("//ol[@class='sources']//figcaption//a/@href") == [
        "/sources/state-department-fact-sheet/#" + passage_anchor(
            "Relations were established in 1987."), "https://www.state.gov/mongolia"]
    assert texts(tree, "//section[@class='notes']/p") == ["The sources disagree on the rank.",
                                                          "Second paragraph."]
    trail = tree.xpath("//ol[@class='audit']/li")
    assert [li.get("class") for li in trail] == ["audit-recorded", "audit-revised"]
    revised = " ".join(trail[1].text_content().split())
    assert "Reason: fuller title" in revised
    assert ("title was: Relations established → now: The United States and Mongolia "
            "establish relations") in revised
    assert re.search(r"Revised \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", revised)
    assert "marked every year on 27 January" in " ".join(texts(tree, "//section/p"))


def test_retracted_page_says_so_with_its_history_from_the_log(
        site: dict[str, Document]) -> None:
    tree = parse(site[page_path("milestones", "milestone-6")])
    assert texts(tree, "//h1") == ["Retracted: Withdrawn milestone"]
    assert "Reason: no source supports it" in texts(tree, "//div[@class='notice']/p")
    assert [li.get("class") for li in tree.xpath("//ol[@class='audit']/li")] == [
        "audit-recorded", "audit-retracted"]
    assert texts(tree, "//article/p/time") == ["1990"]


def test_listings_by_tag_and_year(site: dict[str, Document]) -> None:
    tagged = parse(site["/tags/visits/index.html"])
    assert texts(tagged, "//h1") == ["Milestones tagged “visits”"]
    assert [c.get("id") for c in tagged.xpath("//li[@class='milestone']")] == ["m-milestone-4"]
    assert "/feeds/tags/visits.atom" in tagged.xpath("//link[@rel='alternate']/@href")
    year = parse(site["/years/1991/index.html"])
    assert [c.get("id") for c in year.xpath("//li[@class='milestone']")] == ["m-milestone-3"]
    assert year.xpath("//a[@rel='prev']/@href") == ["/years/1987/"]
    assert year.xpath("//a[@rel='next']/@href") == ["/years/2005/"]


def test_every_page_has_landmarks_one_h1_and_ordered_headings(
        site: dict[str, Document]) -> None:
    pages = [path for path in site if path.endswith(".html")]
    assert len(pages) == 2 * 17  # with the sources index and the one source page; en and mn
    for path in pages:
        check_page_structure(site[path], path)


def check_page_structure(document: Document, path: str) -> None:
    tree = parse(document)
    assert tree.get("lang") == ("mn" if path.startswith("/mn/") else "en"), path
    for landmark in ("header", "nav", "main", "footer"):
        assert tree.xpath(f"//body//{landmark}"), (path, landmark)
    assert len(tree.xpath("//h1")) == 1, path
    levels = [int(h.tag[1]) for h in tree.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), (path, levels)
    ids = tree.xpath("//@id")
    assert len(ids) == len(set(ids)), path


def test_pages_are_byte_identical_after_a_rebuild(store: SqlEventStore,
                                                  site: dict[str, Document]) -> None:
    Projector(store).rebuild()
    again = {d.path: d for d in documents(settings(), ReadModels(store.engine),
                                          today=lambda _s: TODAY)}
    assert again == site


def test_links_follow_the_path_of_the_base_url(store: SqlEventStore) -> None:
    record_milestones(store, [sourced(1, "1987-01-27", "Relations")])
    models = project(store)
    docs = {d.path: d for d in documents(settings(base_url="https://example.org/chronicle"),
                                         models, today=lambda _s: TODAY)}
    tree = parse(docs[INDEX_PATH])
    assert "/chronicle/milestones/milestone-1/" in tree.xpath("//a/@href")
    assert "/chronicle/assets/chronicle.css" in tree.xpath("//link[@rel='stylesheet']/@href")


def test_an_empty_chronicle_still_renders(store: SqlEventStore) -> None:
    docs = {d.path: d for d in documents(settings(), project(store), today=lambda _s: TODAY)}
    assert "The chronicle holds no milestones yet." in docs[INDEX_PATH].body.decode()
    assert b"BEGIN:VCALENDAR" in docs["/calendar.ics"].body


# -- the next anniversary ----------------------------------------------------------------

def test_anniversary_day_follows_the_february_29_rule() -> None:
    assert anniversary_in((2, 29), 2028, "feb28") == dt.date(2028, 2, 29)
    assert anniversary_in((2, 29), 2027, "feb28") == dt.date(2027, 2, 28)
    assert anniversary_in((2, 29), 2027, "mar1") == dt.date(2027, 3, 1)
    assert anniversary_in((2, 29), 2027, "skip") is None
    assert anniversary_in((1, 27), 2027, "skip") == dt.date(2027, 1, 27)


def test_next_anniversaries_count_today_and_skip_the_first_day(store: SqlEventStore) -> None:
    record_milestones(store, [sourced(1, "1988-02-29", "Leap day"),
                              sourced(2, "2026-03-01", "Too new"),
                              sourced(3, "1990-03-01", "Also on 1 March")])
    views = project(store).day_precision()
    found = next_anniversaries(views, dt.date(2026, 3, 1), "mar1")
    assert [(a.view.id, a.on, a.years) for a in found] == [
        ("milestone-1", dt.date(2026, 3, 1), 38), ("milestone-3", dt.date(2026, 3, 1), 36)]
    found = next_anniversaries(views, dt.date(2026, 3, 2), "skip")
    assert [(a.view.id, a.on, a.years) for a in found] == [
        ("milestone-3", dt.date(2027, 3, 1), 37), ("milestone-2", dt.date(2027, 3, 1), 1)]
    found = next_anniversaries(views, dt.date(2026, 2, 1), "feb28")
    assert [(a.view.id, a.on, a.years) for a in found] == [
        ("milestone-1", dt.date(2026, 2, 28), 38)]


def test_the_shipped_data_set_renders(tmp_path: Path) -> None:
    from chronicle.loader import load_sources
    from chronicle.store import open_store
    from chronicle.upcasters import UPCASTERS
    from tests.conftest import REPO

    config = Settings(base_dir=REPO, database_url=f"sqlite:///{tmp_path / 'c.db'}")
    store = open_store(config.resolved_database_url, upcasters=UPCASTERS)
    try:
        load_sources(store, config)
        docs = {d.path: d for d in documents(config, project(store), today=lambda _s: TODAY)}
    finally:
        store.close()
    tree = parse(docs[INDEX_PATH])
    assert len(tree.xpath("//li[@class='milestone']")) == 89
    assert sum(p.startswith("/milestones/") for p in docs) == 89
    relations = parse(docs[page_path("milestones", "diplomatic-relations-established")])
    assert len(relations.xpath("//ol[@class='sources']/li")) == 3
    assert HistoricalDate.parse("1987-01-27").words() in texts(relations, "//p[@class='date']")


def test_reused_pages_equal_fresh_renders_after_a_change(store: SqlEventStore,
                                                         site: dict[str, Document]) -> None:
    """Pages kept from the previous pass never hide a change (cold render = warm render)."""
    from chronicle.pages import builder as site_module

    repo = MilestoneRepository(store)
    state = repo.get("milestone-3")
    assert state.milestone is not None
    changed = sourced(3, "1991-01-22/1991-01-24", "Ochirbat visits Washington, D.C.",
                      tags=("visits",))
    repo.save([Decision(state, revise(state, changed, "the full place name"))], {})
    models = project(store)
    warm = {d.path: d for d in documents(settings(), models, today=lambda _s: TODAY)}
    site_module._renderer.cache_clear()
    cold = {d.path: d for d in documents(settings(), models, today=lambda _s: TODAY)}
    assert warm == cold
    assert warm["/tags/visits/index.html"] != site["/tags/visits/index.html"]
    assert b"Ochirbat visits Washington, D.C." in warm["/years/1991/index.html"].body
    assert warm[page_path("milestones", "milestone-1")] == site[
        page_path("milestones", "milestone-1")]
