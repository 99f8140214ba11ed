"""Source pages for the shipped data set: every quote opens at its passage, in document order."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest

from chronicle.config import Settings
from chronicle.feeds.model import Document
from chronicle.loader import load_sources
from chronicle.pages.builder import documents
from chronicle.pages.sources import passage_anchor, source_slug, split_title
from chronicle.projections import ReadModels
from chronicle.quotes import readable_quote
from chronicle.store import SqlEventStore
from tests.test_feeds_support import REPO, caught_up

SEEDS = REPO.parent / "shared" / "seeds"
ENCYCLOPEDIA = "000_389149d6423ab54b.txt"
pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"no seed documents at {SEEDS}")


@pytest.fixture
def site(store: SqlEventStore) -> tuple[dict[str, Document], ReadModels]:
    settings = Settings(base_dir=REPO, seeds_dir=SEEDS)
    load_sources(store, settings)
    models = caught_up(store)
    return {d.path: d for d in documents(settings, models)}, models


def tree_of(document: Document) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(document.body.decode("utf-8"))


def squash(text: str) -> str:
    return " ".join(text.split())


def test_every_quote_links_to_its_passage_on_a_source_page(
        site: tuple[dict[str, Document], ReadModels]) -> None:
    docs, models = site
    checked = 0
    for view in models.milestones():
        page = tree_of(docs[f"/milestones/{view.id}/index.html"])
        figures = page.xpath("//ol[@class='sources']//figure")
        assert len(figures) == len(view.milestone.sources)
        for figure, source in zip(figures, view.milestone.sources, strict=True):
            href = figure.xpath(".//a[@class='passage']/@href")[0]
            path, anchor = href.split("#")
            assert (path, anchor) == (f"/sources/{source_slug(source)}/",
                                      passage_anchor(source.quote))
            passage = tree_of(docs[f"{path}index.html"]).get_element_by_id(anchor)
            quoted = squash(figure.xpath(".//blockquote")[0].text_content())
            assert squash(passage.xpath(".//blockquote")[0].text_content()) == quoted
            assert f"/milestones/{view.id}/" in passage.xpath(".//ul[@class='citing']//a/@href")
            checked += 1
    assert checked >= 89


def test_source_pages_name_the_document_not_its_file(
        site: tuple[dict[str, Document], ReadModels]) -> None:
    docs, _ = site
    index = tree_of(docs["/sources/index.html"])
    titles = [squash(a.text_content()) for a in index.xpath("//ul[@class='source-list']/li/a")]
    assert "Mongolia–United States relations" in titles
    assert any(t.startswith("Untitled news item on US–Mongolia relations") for t in titles)
    assert any(t.startswith("Untitled article on the US–Mongolia defense") for t in titles)
    for path, document in docs.items():
        if path.startswith("/sources/"):
            assert not re.search(rb"\d{3}_[0-9a-f]{16}\.txt", document.body), path
    page = tree_of(docs["/sources/mongolia-united-states-relations/index.html"])
    assert page.xpath("//h1/text()") == ["Mongolia–United States relations"]
    assert page.xpath("//p[@class='publisher']/text()") == ["encyclopedia article"]


def test_passages_follow_the_document_and_table_rows_read_as_text(
        site: tuple[dict[str, Document], ReadModels]) -> None:
    docs, models = site
    text = squash((SEEDS / ENCYCLOPEDIA).read_text(encoding="utf-8"))
    quotes = {s.quote for v in models.milestones() for s in v.milestone.sources
              if s.file == ENCYCLOPEDIA}
    # Two passages starting at the same place (one quotes the start of the other): by anchor.
    expected = sorted((text.find(squash(q)), passage_anchor(q)) for q in quotes)
    assert all(text.find(squash(q)) >= 0 for q in quotes)
    title = split_title("Mongolia–United States relations (encyclopedia article)")[0]
    assert title == "Mongolia–United States relations"
    page = tree_of(docs["/sources/mongolia-united-states-relations/index.html"])
    assert page.xpath("//ol[@class='passages']/li/@id") == [anchor for _, anchor in expected]
    for path, document in docs.items():
        if not path.endswith(".html"):
            continue  # card images
        for quote in tree_of(document).xpath("//blockquote"):
            assert "|" not in quote.text_content(), path
    wallace = readable_quote(
        "| July 1944 | Henry A. Wallace | Vice President of the United States | Ulaanbaatar |")
    assert wallace == ("July 1944 — Henry A. Wallace, Vice President of the United States, "
                       "Ulaanbaatar")
    assert wallace in squash(page.text_content())


def test_without_the_documents_passages_follow_the_milestones(
        store: SqlEventStore, tmp_path: Path) -> None:
    settings = Settings(base_dir=REPO, seeds_dir=tmp_path / "missing")
    load_sources(store, settings)
    docs = {d.path: d for d in documents(settings, caught_up(store))}
    page = tree_of(docs["/sources/mongolia-united-states-relations/index.html"])
    assert "in the order the document has them" not in page.text_content()
    assert len(page.xpath("//ol[@class='passages']/li")) > 10
