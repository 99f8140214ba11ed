"""Tag and source pages above `feed.listing_size`: an index of years and a page per year.

What the split pages say and link, in English and Mongolian; every link between the pages
(fragments included) lands on a page that holds it; the server maps the year pages' URLs;
and at the limit the pages are the unsplit ones, byte for byte.
"""

from __future__ import annotations

from urllib.parse import urldefrag

import lxml.html

from chronicle.config import Settings
from chronicle.feeds.model import Document
from chronicle.pages.sources import passage_anchor
from chronicle.projections import ReadModels
from chronicle.store import SqlEventStore
from chronicle.web.pages import page_target
from tests.test_feeds_support import caught_up, record_all
from tests.test_pages_live import SETTINGS, SPLIT, on, scratch

ROOT = "/site"
# Milestone n is in 1990 + n % 3, so each year holds two of the six.
YEARS = {1990: [0, 3], 1991: [1, 4], 1992: [2, 5]}
WORDS = {
    "": ("Milestones tagged “trade”", "6 milestones. Each year’s milestones are on a page of "
         "their own.", "Browse by year", "Milestones tagged “trade” in 1991",
         "The passages cited by milestones of 1991", "6 passages quoted. They are listed by the "
         "year of the milestones citing them, each year on a page of its own."),
    "/mn": ("“trade” шошготой үйл явдлууд", "6 үйл явдал. Он бүрийн үйл явдлууд тус тусдаа "
            "хуудсанд байна.", "Оноор үзэх", "“trade” шошготой 1991 оны үйл явдлууд",
            "1991 оны үйл явдлуудын иш татсан хэсгүүд", "Иш татсан 6 хэсэг. Тэдгээрийг иш "
            "татсан үйл явдлуудын оноор жагсаасан бөгөөд он бүр тусдаа хуудастай."),
}


def chronicle(store: SqlEventStore, settings: Settings) -> dict[str, Document]:
    record_all(store, [on(n, f"{1990 + n % 3}-0{n + 1}-15", "trade") for n in range(6)])
    return scratch(caught_up(store), settings)


def tree(document: Document) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(document.body)


def texts(page: lxml.html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(element.text_content().split()) for element in page.xpath(xpath)]


def test_a_split_tag_and_source_say_so_and_link_their_years(store: SqlEventStore) -> None:
    docs = chronicle(store, SPLIT)
    for prefix, (heading, count, browse, year_heading, cited, passages) in WORDS.items():
        index = tree(docs[f"{prefix}/tags/trade/index.html"])
        assert texts(index, "//h1") == [heading]
        assert texts(index, "//main/p[@class='muted']") == [count]
        assert texts(index, "//section[@id='years']/h2") == [browse]
        assert index.xpath("//section[@id='years']//a/@href") == [
            f"{ROOT}{prefix}/tags/trade/{year}/" for year in YEARS]
        assert texts(index, "//section[@id='years']//a") == [f"{year} 2" for year in YEARS]
        assert not index.xpath("//li[@class='milestone']")
        assert f"{ROOT}{prefix}/feeds/tags/trade.atom" in index.xpath("//main//a/@href")

        year = tree(docs[f"{prefix}/tags/trade/1991/index.html"])
        assert texts(year, "//h1") == [year_heading]
        assert year.xpath("//li[@class='milestone']/@id") == [
            f"m-feed-milestone-{n}" for n in YEARS[1991]]
        assert year.xpath("//nav[@class='crumbs']//a/@href")[-1] == f"{ROOT}{prefix}/tags/trade/"
        assert year.xpath("//nav[@class='pager']//a/@href") == [
            f"{ROOT}{prefix}/tags/trade/1990/", f"{ROOT}{prefix}/tags/trade/1992/"]
        assert year.xpath("//link[@rel='alternate' and @hreflang='x-default']/@href") == [
            "https://chronicle.test/site/tags/trade/1991/"]

        source = tree(docs[f"{prefix}/sources/shared/index.html"])
        assert texts(source, "//main//p[@class='muted']") == [passages]
        assert source.xpath("//section[@id='years']//a/@href") == [
            f"{ROOT}{prefix}/sources/shared/{year}/" for year in YEARS]
        assert not source.xpath("//ol[@class='passages']")
        source_year = tree(docs[f"{prefix}/sources/shared/1991/index.html"])
        assert texts(source_year, "//main//h2") == [cited]
        assert source_year.xpath("//ol[@class='passages']/li/@id") == [
            passage_anchor(f"Passage {n} of a shared source.") for n in YEARS[1991]]
        assert source_year.xpath("//nav[@class='crumbs']//a/@href")[-1] == (
            f"{ROOT}{prefix}/sources/shared/")
        assert docs[f"{prefix}/sources/shared/1991/index.html"].route == (
            f"{prefix}/sources/{{slug}}/{{year}}")

        milestone = tree(docs[f"{prefix}/milestones/feed-milestone-4/index.html"])
        assert milestone.xpath("//a[@class='passage']/@href") == [
            f"{ROOT}{prefix}/sources/shared/1991/#"
            + passage_anchor("Passage 4 of a shared source.")]


def test_every_link_between_the_split_pages_lands(store: SqlEventStore) -> None:
    """Every root-relative link of every page to a page: a document there, holding the
    fragment it names (a milestone's passage on its source's year page)."""
    docs = chronicle(store, SPLIT)
    checked = 0
    for document in docs.values():
        if not document.media_type.startswith("text/html"):
            continue
        for href in tree(document).xpath("//a/@href"):
            url, fragment = urldefrag(href)
            if not url.startswith(ROOT + "/") or not url.endswith("/"):
                continue
            target = docs.get(url.removeprefix(ROOT) + "index.html")
            if target is None and url.removeprefix(ROOT) in ("/", "/mn/"):
                continue       # the home page: not a listing, rendered per day
            assert target is not None, (document.path, href)
            if fragment:
                assert tree(target).xpath(f"//*[@id='{fragment}']"), (document.path, href)
            checked += 1
    assert checked > 100


def test_the_server_maps_the_year_pages() -> None:
    for path in ("/tags/trade/1991/", "/tags/trade/1991", "/tags/trade/1991/index.html"):
        assert page_target(path) == "/tags/trade/1991/index.html"
    assert page_target("/sources/shared/1991/") == "/sources/shared/1991/index.html"
    assert page_target("/tags/trade/") == "/tags/trade/index.html"
    assert page_target("/years/1991/x/") is None


def test_at_the_limit_the_pages_are_the_unsplit_ones(store: SqlEventStore,
                                                     cold: ReadModels) -> None:
    docs = chronicle(store, Settings(feed={**SETTINGS.feed.model_dump(), "listing_size": 6}))
    unbounded = scratch(cold)
    assert docs.keys() == unbounded.keys()
    for path, document in unbounded.items():
        assert docs[path].body == document.body, path
