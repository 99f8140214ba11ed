"""The site in Mongolian: pages under /mn/ and feeds per language, from real read models.

A small chronicle holds a translated milestone (unreviewed), a reviewed one and one with no
translation; the pages must speak Mongolian where there is a translation, mark English where
there is none, link each page to its other language both ways, and the feeds must carry
their language with ids of their own, the English feeds' bytes unchanged.
"""

from __future__ import annotations

import ast
import dataclasses
import glob
import json
from collections.abc import Iterator
from pathlib import Path

import feedparser
import lxml.etree
import lxml.html
import pytest
from jinja2.ext import babel_extract
from pydantic import ValidationError

from chronicle.config import FeedSettings, Settings
from chronicle.dates import HistoricalDate
from chronicle.datewords import date_words
from chronicle.domain import Milestone, Source
from chronicle.feeds import feed_documents
from chronicle.feeds.model import Document
from chronicle.pages import macros
from chronicle.pages.builder import documents, page_path
from chronicle.pages.eras import ERAS
from chronicle.projections import ReadModels
from chronicle.site import site_documents
from chronicle.store import SqlEventStore
from chronicle.translations import Translation
from chronicle.uitext import ui_text
from chronicle.web import create_app
from tests.factories import make_milestone, record_milestones
from tests.test_feeds_support import caught_up, revise_one, wait_until
from tests.test_serve_http import Client

BASE = "https://chronicle.example.org"
ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DRAFT_NOTE = "Орчуулгыг хянаж амжаагүй"
RELATIONS_MN = "АНУ, Монгол Улс дипломат харилцаа тогтоов"
QUOTE = "The United States and Mongolia established diplomatic relations."


def translation(title: str, *, reviewed: bool = False) -> Translation:
    return Translation(language="mn", title=title, summary=f"{title}: хураангуй.",
                       translator="Chronicle team (machine-assisted draft)", reviewed=reviewed)


def chronicle() -> list[Milestone]:
    relations = dataclasses.replace(
        make_milestone(1, title="Relations established", date="1987-01-27",
                       tags=("diplomacy",)),
        sources=(Source(title="State Department fact sheet", url="https://www.state.gov/m",
                        quote=QUOTE),),
        translations=(translation(RELATIONS_MN),))
    partnership = dataclasses.replace(
        make_milestone(2, title="Strategic partnership", date="2019-07-31",
                       tags=("diplomacy",)),
        translations=(translation("Стратегийн түншлэл", reviewed=True),))
    untranslated = make_milestone(3, title="An untranslated visit", date="1991-01-22",
                                  tags=("visits",))
    return [relations, partnership, untranslated]


def settings(**feed: object) -> Settings:
    return Settings(feed={"base_url": BASE, **feed})


@pytest.fixture
def models(store: SqlEventStore) -> ReadModels:
    record_milestones(store, chronicle())
    return caught_up(store)


@pytest.fixture
def site(models: ReadModels) -> dict[str, Document]:
    return {d.path: d for d in site_documents(settings(), models)}


def html(document: Document) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(document.body.decode("utf-8"))


def words(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


# -- pages ---------------------------------------------------------------------------------


def test_every_english_page_has_a_mongolian_twin_that_speaks_mongolian(
        site: dict[str, Document]) -> None:
    english = [p for p in site if p.endswith(".html") and not p.startswith("/mn/")]
    assert english and all(f"/mn{p}" in site for p in english)
    home = html(site["/mn/index.html"])
    assert home.get("lang") == "mn"
    assert home.xpath("//nav[@aria-label='Сайт']//a/text()")[:2] == ["Он дараалал", "Шошго"]
    assert home.xpath("//svg//a[@class='tl-mark']/@href")[0].startswith("/mn/milestones/")
    assert "Дараагийн ой" in words(home)
    # Interface words only: no English sentence of the templates is left on a Mongolian page.
    for path in (p for p in site if p.startswith("/mn/") and p.endswith(".html")):
        text = site[path].body.decode()
        for sentence in ("Skip to the content", "History of this entry", "Browse by tag",
                         "Every milestone cites", "Search the chronicle"):
            assert sentence not in text, (path, sentence)


def test_a_translated_milestone_page(site: dict[str, Document]) -> None:
    page = html(site["/mn" + page_path("milestones", "milestone-1")])
    assert [words(h) for h in page.xpath("//h1")] == [RELATIONS_MN]
    assert page.xpath("//h1/@lang") == []
    day = date_words(HistoricalDate.parse("1987-01-27"), "mn")
    assert page.xpath("//article//p[@class='date']/time/text()") == [day]
    assert day.startswith("1987") and "нэгдүгээр сарын 27" in day
    assert DRAFT_NOTE in words(page.xpath("//p[@class='translation-note']")[0])
    # The quote stays in its source's language, and so do people, places and the source title.
    quote = page.xpath("//ol[@class='sources']//blockquote")[0]
    assert quote.get("lang") == "en" and words(quote) == QUOTE
    assert page.xpath("//dl[@class='facts']/dd/@lang") == ["en", "en"]
    assert page.xpath("//ol[@class='sources']//cite/@lang") == ["en"]
    assert page.xpath("//section[@aria-labelledby='sources-h']/h2/text()") == ["Эх сурвалж"]
    assert page.xpath("//link[@rel='canonical']/@href") == [f"{BASE}/mn/milestones/milestone-1/"]


def test_a_reviewed_translation_carries_no_note_and_english_carries_none(
        site: dict[str, Document]) -> None:
    reviewed = html(site["/mn" + page_path("milestones", "milestone-2")])
    assert words(reviewed.xpath("//h1")[0]) == "Стратегийн түншлэл"
    assert reviewed.xpath("//p[@class='translation-note']") == []
    english = html(site[page_path("milestones", "milestone-1")])
    assert english.get("lang") == "en" and english.xpath("//p[@class='translation-note']") == []
    assert english.xpath("//body//*[@lang='en']") == []


def test_untranslated_text_falls_back_to_english_marked_as_english(
        site: dict[str, Document]) -> None:
    page = html(site["/mn" + page_path("milestones", "milestone-3")])
    (heading,) = page.xpath("//h1")
    assert heading.get("lang") == "en" and words(heading) == "An untranslated visit"
    assert page.xpath("//div[@class='summary']/@lang") == ["en"]
    assert "англиар" in words(page.xpath("//p[@class='translation-note']")[0])
    listing = html(site["/mn/tags/visits/index.html"])
    card = listing.xpath("//li[@id='m-milestone-3']//h2")[0]
    assert card.get("lang") == "en"
    assert listing.xpath("//h1/text()") == ["“visits” шошготой үйл явдлууд"]
    translated = html(site["/mn/years/1987/index.html"]).xpath("//li[@id='m-milestone-1']//h2")
    assert translated[0].get("lang") is None and words(translated[0]) == RELATIONS_MN


def test_hreflang_alternates_point_at_each_other_on_every_page(
        site: dict[str, Document]) -> None:
    pages = [p for p in site if p.endswith("index.html")]
    assert len(pages) > 10
    by_url = {}
    for path in pages:
        tree = html(site[path])
        (canonical,) = tree.xpath("//link[@rel='canonical']/@href")
        alternates = {link.get("hreflang"): link.get("href")
                      for link in tree.xpath("//head/link[@rel='alternate'][@hreflang]")}
        assert set(alternates) == {"en", "mn", "x-default"}, path
        assert alternates[tree.get("lang")] == canonical, path
        assert alternates["x-default"] == alternates["en"], path
        by_url[canonical] = alternates
    for alternates in by_url.values():
        for language in ("en", "mn"):
            assert by_url[alternates[language]] == alternates   # the other page links back
    # The visible switch goes to the same page in the other language.
    switch = html(site["/mn/years/1987/index.html"]).xpath("//nav[@class='language-switch']//a")
    assert [(a.get("href"), a.get("hreflang"), words(a)) for a in switch] == [
        ("/years/1987/", "en", "English")]
    back = html(site["/years/1987/index.html"]).xpath("//nav[@class='language-switch']//a")
    assert [(a.get("href"), a.get("lang"), words(a)) for a in back] == [
        ("/mn/years/1987/", "mn", "Монгол")]


def test_the_catalogue_covers_every_message_of_the_templates() -> None:
    """A message missing from mn.py would show English without a lang mark: none is."""
    messages = ui_text("mn").messages
    missing = []
    for path in sorted(glob.glob("chronicle/pages/templates/*.html")):
        with open(path, "rb") as handle:
            for _line, function, message, _comments in babel_extract(
                    handle, ("_", "ngettext"), [], {"extensions": "jinja2.ext.i18n"}):
                parts = message if isinstance(message, tuple) else (message,)
                key = parts[1] if function == "ngettext" else parts[0]
                if key is not None and key not in messages:
                    missing.append((path, key))
    # The templates' small macros are Python (chronicle/pages/macros.py): their `self._()`
    # calls, inside f-strings too (which babel's Python extractor does not look into).
    tree = ast.parse(Path(macros.__file__).read_text(encoding="utf-8"))
    called = [node.args[0].value for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "_" and node.args
              and isinstance(node.args[0], ast.Constant)]
    assert "Tags" in called and "Reason:" in called     # the walk finds them
    missing += [(macros.__file__, message)
                for message in (*called, macros.UNREVIEWED, macros.UNTRANSLATED)
                if message not in messages]
    assert missing == []
    assert all(era.name in messages for era in ERAS)
    assert {"Recorded", "Revised", "Retracted"} <= set(messages)


def test_the_languages_setting(models: ReadModels) -> None:
    only_english = {d.path for d in documents(settings(languages=["en"]), models)}
    assert only_english and not any(p.startswith("/mn/") for p in only_english)
    assert FeedSettings(languages=["mn", "en"]).languages == ["en", "mn"]
    with pytest.raises(ValidationError, match="English is the milestones' own text: include"):
        FeedSettings(languages=["mn"])
    with pytest.raises(ValidationError, match="not a language code Babel knows"):
        FeedSettings(languages=["en", "xx"])


# -- feeds ---------------------------------------------------------------------------------


def atom_problems(body: bytes) -> list[str]:
    """What RFC 4287 requires of a feed and its entries (section 4.1), checked on the XML."""
    root = lxml.etree.fromstring(body)
    problems = []
    for name in ("id", "title", "updated"):
        if root.find(f"{ATOM}{name}") is None:
            problems.append(f"feed lacks atom:{name}")
    if root.find(f"{ATOM}author") is None and any(
            e.find(f"{ATOM}author") is None for e in root.iter(f"{ATOM}entry")):
        problems.append("an entry has no author, nor has the feed")
    for entry in root.iter(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            if entry.find(f"{ATOM}{name}") is None:
                problems.append(f"entry lacks atom:{name}")
        if entry.find(f"{ATOM}content") is None and entry.find(
                f"{ATOM}link[@rel='alternate']") is None:
            problems.append("entry has neither content nor an alternate link")
    return problems


def parsed(document: Document) -> feedparser.FeedParserDict:
    result = feedparser.parse(document.body)
    assert not result.bozo, result.get("bozo_exception")
    return result


def test_mongolian_feeds_carry_their_language_and_their_own_ids(
        site: dict[str, Document]) -> None:
    for stem in ("/feeds/milestones", "/feeds/tags/diplomacy", "/feeds/anniversaries"):
        atom = site[f"/mn{stem}.atom"]
        assert atom_problems(atom.body) == [], stem
        assert lxml.etree.fromstring(atom.body).get(XML_LANG) == "mn"
        rss = lxml.etree.fromstring(site[f"/mn{stem}.rss"].body)
        assert rss.findtext("channel/language") == "mn"
        assert json.loads(site[f"/mn{stem}.json"].body)["language"] == "mn"
    mn, en = parsed(site["/mn/feeds/milestones.atom"]), parsed(site["/feeds/milestones.atom"])
    assert mn.feed.title == "Монгол Улс – Америкийн Нэгдсэн Улс: шастир"
    assert {e.id for e in mn.entries}.isdisjoint(e.id for e in en.entries)
    ids = {e.link: e.id for e in mn.entries}
    assert ids[f"{BASE}/mn/milestones/milestone-1"] == (
        "tag:chronicle.example.org,2026:mn/milestone/milestone-1")
    relations = next(e for e in mn.entries if e.link.endswith("/milestone-1"))
    assert relations.title.endswith(RELATIONS_MN)
    assert f"<blockquote><p>{QUOTE}</p></blockquote>" in relations.content[0].value
    untranslated = next(e for e in mn.entries if e.link.endswith("/milestone-3"))
    assert '<div lang="en"><p>Summary 3' in untranslated.content[0].value
    self_links = [link.href for link in mn.feed.links if link.rel == "self"]
    assert self_links == [f"{BASE}/mn/feeds/milestones.atom"]
    assert "/mn/calendar.ics" in site and b"X-WR-CALNAME" in site["/mn/calendar.ics"].body


def test_english_feeds_keep_their_bytes(models: ReadModels) -> None:
    """Publishing Mongolian changes no byte of an English feed."""
    english_only = {d.path: d.body for d in feed_documents(
        settings(languages=["en"]).feed, models)}
    both = {d.path: d.body for d in site_documents(settings(), models)}
    assert english_only and all(both[path] == body for path, body in english_only.items())


def test_mongolian_ids_stay_put_across_a_revision(store: SqlEventStore,
                                                  models: ReadModels) -> None:
    before = parsed(next(d for d in feed_documents(settings().feed, models, "mn")
                         if d.path == "/mn/feeds/milestones.atom"))
    changed = dataclasses.replace(chronicle()[0], translations=(
        translation("АНУ, Монгол Улс харилцаа тогтоов", reviewed=True),))
    revise_one(store, changed, "reviewed")
    after = parsed(next(d for d in feed_documents(settings().feed, caught_up(store), "mn")
                        if d.path == "/mn/feeds/milestones.atom"))
    assert {e.id for e in after.entries} == {e.id for e in before.entries}
    assert after.entries[0].title.endswith("АНУ, Монгол Улс харилцаа тогтоов")


# -- serving ---------------------------------------------------------------------------------


@pytest.fixture
def client(store: SqlEventStore, db_url: str) -> Iterator[Client]:
    record_milestones(store, chronicle())
    app_settings = Settings(database_url=db_url, server={"poll_seconds": 0.1},
                            feed={"base_url": BASE})
    with Client(create_app(app_settings, store)) as client:
        yield client


def test_serve_answers_the_mongolian_site_and_refreshes_it(client: Client,
                                                           store: SqlEventStore) -> None:
    for path in ("/mn/", "/mn", "/mn/index.html", "/mn/milestones/milestone-1/",
                 "/mn/milestones/milestone-1", "/mn/tags/diplomacy/", "/mn/years/1987/",
                 "/mn/sources/", "/mn/feeds/milestones.atom", "/mn/feeds/anniversaries.json",
                 "/mn/calendar.ics"):
        assert client.get(path).status_code == 200, path
    missing = client.get("/mn/milestones/nothing-here/")
    assert missing.status_code == 404 and "Энд юу ч алга" in missing.text
    english = client.get("/milestones/nothing-here/")
    assert english.status_code == 404 and '<html lang="en">' in english.text
    assert "Nothing here" in english.text and "Энд юу ч алга" not in english.text
    found = client.get("/mn/search", params={"q": "Relations"})
    tree = lxml.html.document_fromstring(found.text)
    assert tree.get("lang") == "mn"
    assert [words(h) for h in tree.xpath("//ol[@class='results']//h2")] == [RELATIONS_MN]
    # A revision reaches the Mongolian page and feed, as it reaches the English ones.
    changed = dataclasses.replace(chronicle()[2], translations=(
        translation("Орчуулсан айлчлал", reviewed=True),))
    revise_one(store, changed, "translated")
    wait_until(lambda: "Орчуулсан айлчлал" in client.get("/mn/milestones/milestone-3/").text,
               20, "the Mongolian page was not re-rendered after the revision")
    assert "Орчуулсан айлчлал" in client.get("/mn/feeds/milestones.atom").text
