"""The pages in headless Chromium against a real `chronicle serve` loaded with the data set."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from chronicle.domain import retract, revise
from chronicle.pages.screenshots import CHROMIUM, CHROMIUM_ARGS, running_server
from chronicle.repository import Decision, MilestoneRepository
from chronicle.store import SqlEventStore, open_store
from chronicle.upcasters import UPCASTERS

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")]

MILESTONES = 89
RELATIONS = "diplomatic-relations-established"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of a server that loaded the shipped data set on start."""
    folder = tmp_path_factory.mktemp("served")
    database = f"sqlite:///{folder / 'chronicle.db'}"
    env = {"CHRONICLE_EXPORT_DIR": str(folder), "CHRONICLE_SERVER__POLL_SECONDS": "0.2"}
    with running_server(database, env=env, log_path=folder / "serve.log") as base:
        yield base, database


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Console:
    """Every console error and uncaught exception of a page."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Any, Console]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    console = Console(opened)
    yield opened, console
    context.close()
    assert console.errors == []


def tag_count(page: Any, tag: str) -> int:
    """How many milestones the page's tag list says `tag` has."""
    return int(page.locator(f"#tags a[data-tag='{tag}'] .count").inner_text())


def visible_milestones(page: Any) -> int:
    return int(page.locator("#timeline li.milestone:visible").count())


def test_the_timeline_lists_every_milestone_by_era(served: tuple[str, str],
                                                   page: tuple[Any, Console]) -> None:
    base, _ = served
    tab, _console = page
    response = tab.goto(f"{base}/")
    assert response.status == 200
    assert tab.locator("h1").count() == 1
    assert visible_milestones(tab) == MILESTONES
    assert tab.locator("section.era > h2").all_inner_texts() == [
        "Early contacts 1862–1945", "Cold War & recognition 1946–1987",
        "Democratic transition 1988–1999", "Partnership 2000–2018", "Strategic partnership 2019–"]
    upcoming = tab.locator("section.upcoming").inner_text()
    assert "22 January 2026" in upcoming and "35th anniversary" in upcoming  # CHRONICLE_FAKE_NOW


def test_a_tag_filter_button_and_the_tag_page_agree(served: tuple[str, str],
                                                    page: tuple[Any, Console]) -> None:
    base, _ = served
    tab, _console = page
    tab.goto(f"{base}/")
    expected = tag_count(tab, "visits")
    button = tab.locator("button[data-filter='visits']")
    button.click()
    assert button.get_attribute("aria-pressed") == "true"
    assert visible_milestones(tab) == expected
    for item in tab.locator("#timeline li.milestone:visible").all():
        assert "visits" in item.get_attribute("data-tags").split()
    assert f"Showing {expected} milestones tagged “visits”." in tab.locator(
        "#timeline [role=status]").inner_text()
    tab.locator("button[data-filter='']").click()
    assert visible_milestones(tab) == MILESTONES
    # The tags are listed once: the buttons take the links' place.
    assert tab.locator("#tags a[data-tag]:visible").count() == 0
    assert tab.locator("#tags button:visible", has_text="visits").count() == 1


def test_the_tag_filter_speaks_the_pages_language(served: tuple[str, str],
                                                  page: tuple[Any, Console]) -> None:
    base, _ = served
    tab, _console = page
    tab.goto(f"{base}/mn/")
    expected = tag_count(tab, "visits")
    assert tab.locator("#tags legend").inner_text() == "Он дарааллыг шүүх"
    assert tab.locator("button[data-filter='']").inner_text() == "Бүгд"
    tab.locator("button[data-filter='visits']").click()
    assert tab.locator("#timeline [role=status]").inner_text() == (
        f"“visits” шошготой {expected} үйл явдал харуулж байна.")


def test_without_the_script_the_tag_links_lead_to_the_tag_pages(
        served: tuple[str, str], browser: Any) -> None:
    base, _ = served
    context = browser.new_context(java_script_enabled=False)
    tab = context.new_page()
    tab.goto(f"{base}/")
    expected = tag_count(tab, "visits")
    assert tab.locator("button[data-filter]").count() == 0
    tab.locator("#tags a[data-tag='visits']").click()
    tab.wait_for_url(f"{base}/tags/visits/")
    assert tab.locator("li.milestone").count() == expected
    context.close()


def test_autodiscovery_links_resolve(served: tuple[str, str], page: tuple[Any, Console]) -> None:
    base, _ = served
    tab, _console = page
    tab.goto(f"{base}/")
    links = tab.locator("head link[rel=alternate][type]")  # (hreflang alternates have none)
    found = [(links.nth(i).get_attribute("type"), links.nth(i).get_attribute("href"))
             for i in range(links.count())]
    assert {media for media, _ in found} == {"application/atom+xml", "application/rss+xml",
                                             "application/feed+json", "text/calendar"}
    for media, href in found:
        answer = httpx.get(f"{base}{href}")
        assert answer.status_code == 200, href
        assert answer.headers["content-type"].startswith(media), href
        assert "charset=utf-8" in answer.headers["content-type"]


def test_a_milestone_page_shows_its_sources_and_history(served: tuple[str, str],
                                                        page: tuple[Any, Console]) -> None:
    base, _ = served
    tab, _console = page
    tab.goto(f"{base}/")
    tab.locator(f"#m-{RELATIONS} h4 a").click()
    tab.wait_for_url(f"{base}/milestones/{RELATIONS}/")
    assert tab.locator("h1").inner_text() == (
        "The United States and Mongolia establish diplomatic relations")
    assert tab.locator("ol.sources blockquote").count() == 3
    assert "becoming the 100th or 101st country" in tab.locator(
        "ol.sources blockquote").first.inner_text()
    assert tab.locator("section.notes").is_visible()
    assert tab.locator("ol.audit > li").first.inner_text().startswith("Recorded")


def wait_for_text(url: str, text: str, timeout: float = 15) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        answer = httpx.get(url)
        if text in answer.text or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def change(database: str, work: Any) -> None:
    store: SqlEventStore = open_store(database, upcasters=UPCASTERS)
    try:
        repo = MilestoneRepository(store)
        work(repo)
    finally:
        store.close()


def test_revisions_and_retractions_from_another_process_show(
        served: tuple[str, str], page: tuple[Any, Console]) -> None:
    base, database = served
    tab, console = page

    def revise_and_retract(repo: MilestoneRepository) -> None:
        state = repo.get("visit-baker-1990-08")
        assert state.milestone is not None
        changed = replace(state.milestone, title="James Baker visits Ulaanbaatar (corrected)")
        gone = repo.get("visit-baker-1991-07")
        repo.save([Decision(state, revise(state, changed, "a clearer title")),
                   Decision(gone, retract(gone, "a duplicate of another visit"))], {"by": "test"})

    change(database, revise_and_retract)
    answer = wait_for_text(f"{base}/milestones/visit-baker-1990-08", "a clearer title")
    assert answer.status_code == 200
    tab.goto(f"{base}/milestones/visit-baker-1990-08")
    trail = tab.locator("ol.audit > li").all_inner_texts()
    assert [t.split()[0] for t in trail] == ["Recorded", "Revised"]
    assert "Reason: a clearer title" in trail[1]
    # What changed: the old value struck through, then the new one.
    revised = tab.locator("ol.audit > li.audit-revised dl.changes dd").first
    assert revised.locator("del").inner_text().endswith(
        "Secretary of State James Baker visits Mongolia")
    assert revised.locator("ins").inner_text().endswith(
        "James Baker visits Ulaanbaatar (corrected)")
    assert "→" in revised.inner_text()
    response = tab.goto(f"{base}/milestones/visit-baker-1991-07")
    assert response.status == 410
    console.errors.remove(  # Chromium logs any non-2xx document; this one is intended
        "Failed to load resource: the server responded with a status of 410 (Gone)")
    assert tab.locator("h1").inner_text().startswith("Retracted: ")
    assert "a duplicate of another visit" in tab.locator(".notice").inner_text()
    assert [t.split()[0] for t in tab.locator("ol.audit > li").all_inner_texts()] == [
        "Recorded", "Retracted"]
    tab.goto(f"{base}/")
    assert visible_milestones(tab) == MILESTONES - 1


def test_unknown_addresses_get_a_friendly_404(served: tuple[str, str], browser: Any) -> None:
    base, _ = served
    context = browser.new_context()
    tab = context.new_page()
    for path in ("/milestones/no-such-milestone", "/tags/nothing", "/years/1700", "/nowhere"):
        response = tab.goto(f"{base}{path}")
        assert response.status == 404, path
        assert tab.locator("h1").inner_text() == "Nothing here"
        assert tab.locator("a[href='/']").count() >= 1
    context.close()


def test_conditional_get_on_pages(served: tuple[str, str]) -> None:
    base, _ = served
    for path in ("/", f"/milestones/{RELATIONS}", "/tags/diplomacy", "/calendar.ics"):
        first = httpx.get(f"{base}{path}")
        assert first.status_code == 200
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        again = httpx.get(f"{base}{path}", headers={"if-none-match": etag})
        assert again.status_code == 304 and again.content == b"", path
        since = httpx.get(f"{base}{path}", headers={"if-modified-since": modified})
        assert since.status_code == 304, path
        head = httpx.head(f"{base}{path}")
        assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == etag


CONTRAST_SCRIPT = """
() => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const selectors = ["body", "main p", "a", ".muted", ".tag-list a", ".tags a", ".era > h2",
                     ".year > h3 a", "button[aria-pressed=true]", "button[aria-pressed=false]",
                     ".milestone .date", "footer p", ".upcoming li", "mark", ".publisher",
                     ".site-search button", ".passages .cited", ".result .snippet",
                     ".language-switch a", ".translation-note"];
  return selectors.flatMap((s) => Array.from(document.querySelectorAll(s)).slice(0, 3).map(
    (el) => [s, parse(getComputedStyle(el).color).slice(0, 3), background(el)]));
}
"""


def luminance(rgb: list[float]) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
    red, green, blue = (channel(v) for v in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(a: list[float], b: list[float]) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_contrast_and_no_sideways_scrolling(served: tuple[str, str], browser: Any, scheme: str,
                                            width: int) -> None:
    base, _ = served
    context = browser.new_context(viewport={"width": width, "height": 844},
                                  color_scheme=scheme)
    tab = context.new_page()
    console = Console(tab)
    for path in ("/", f"/milestones/{RELATIONS}", "/sources/mongolia-united-states-relations/",
                 "/search?q=Khaan+Quest", "/mn/", f"/mn/milestones/{RELATIONS}",
                 "/mn/tags/diplomacy/", "/mn/sources/mongolia-united-states-relations/",
                 "/mn/search?q=Khaan+Quest"):
        tab.goto(f"{base}{path}")
        samples = tab.evaluate(CONTRAST_SCRIPT)
        assert len(samples) > 10
        low = [(s, fg, bg, round(contrast(fg, bg), 2)) for s, fg, bg in samples
               if contrast(fg, bg) < 4.5]
        assert low == [], (scheme, path)
        assert tab.evaluate("document.documentElement.scrollWidth") <= width, path
    context.close()
    assert console.errors == []


def test_the_mongolian_site_at_phone_width(served: tuple[str, str], browser: Any) -> None:
    """Cyrillic on a 390 px screen: the switch, the draft note, the timeline, both ways."""
    base, _ = served
    context = browser.new_context(viewport={"width": 390, "height": 844})
    tab = context.new_page()
    console = Console(tab)
    tab.goto(f"{base}/")  # as many as the English timeline (a test before may retract one)
    live = tab.locator("#timeline li.milestone:visible").count()
    assert live in (MILESTONES, MILESTONES - 1)
    tab.goto(f"{base}/mn/")
    assert tab.locator("html").get_attribute("lang") == "mn"
    assert tab.locator("nav[aria-label='Сайт'] a").first.inner_text() == "Он дараалал"
    assert tab.locator("#timeline li.milestone:visible").count() == live
    assert tab.locator("svg a.tl-mark").count() == live
    tab.locator(f"#m-{RELATIONS} h4 a").click()
    tab.wait_for_url(f"**/mn/milestones/{RELATIONS}/")
    title = tab.locator("h1").inner_text()
    assert any("\u0400" <= ch <= "\u04ff" for ch in title), title
    note = tab.locator("p.translation-note")
    assert note.is_visible() and "Орчуулгыг хянаж амжаагүй" in note.inner_text()
    assert tab.locator("blockquote").first.get_attribute("lang") == "en"
    assert tab.evaluate("document.documentElement.scrollWidth") <= 390
    switch = tab.locator(".language-switch a")
    assert switch.is_visible() and switch.inner_text() == "English"
    switch.click()
    tab.wait_for_url(f"**/milestones/{RELATIONS}/")
    assert tab.locator("html").get_attribute("lang") == "en"
    assert tab.locator(".language-switch a").inner_text() == "Монгол"
    context.close()
    assert console.errors == []


def test_the_svg_timeline_is_on_the_first_screen_and_its_marks_open_milestones(
        served: tuple[str, str], page: tuple[Any, Console]) -> None:
    base, _ = served
    tab, _console = page
    tab.goto(f"{base}/")
    picture = tab.locator("figure.timeline-picture svg")
    box = picture.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 900  # the desktop viewport
    marks = tab.locator("figure.timeline-picture a.tl-mark")
    assert marks.count() == tab.locator("#timeline li.milestone").count()
    titles = tab.eval_on_selector_all("figure.timeline-picture a.tl-mark title",
                                      "found => found.map(title => title.textContent)")
    assert "27 January 1987: The United States and Mongolia establish diplomatic relations" \
        in titles
    marks.nth(titles.index(next(t for t in titles if t.startswith("27 January 1987")))).click()
    tab.wait_for_url(f"{base}/milestones/{RELATIONS}/")
    assert tab.locator("h1").inner_text().startswith("The United States and Mongolia")


def test_search_from_the_header_highlights_and_opens_a_milestone(
        served: tuple[str, str], page: tuple[Any, Console]) -> None:
    base, _ = served
    tab, _console = page
    tab.goto(f"{base}/")
    tab.locator("header input[name=q]").fill("Khaan Quest")
    tab.locator("header form[role=search] button").click()
    tab.wait_for_url(f"{base}/search?q=Khaan+Quest")
    results = tab.locator("ol.results > li")
    assert results.count() >= 2
    assert results.first.locator("h2 mark").all_inner_texts()[:2] == ["Khaan", "Quest"]
    assert "match “Khaan Quest”" in tab.locator("[role=status]").inner_text()
    results.first.locator("h2 a").click()
    tab.wait_for_url(f"{base}/milestones/khaan-quest-*/")
    assert "Khaan Quest" in tab.locator("h1").inner_text()


def test_a_quote_opens_at_its_passage_on_the_source_page(
        served: tuple[str, str], page: tuple[Any, Console]) -> None:
    base, _ = served
    tab, _console = page
    tab.goto(f"{base}/milestones/{RELATIONS}/")
    quote = tab.locator("ol.sources figure").first
    text = " ".join(quote.locator("blockquote").inner_text().split())
    quote.locator("a.passage").click()
    tab.wait_for_url(f"{base}/sources/**")
    anchor = tab.url.split("#", 1)[1]
    passage = tab.locator(f"li[id='{anchor}']")
    assert passage.is_visible()
    assert " ".join(passage.locator("blockquote").inner_text().split()) == text
    assert passage.locator(f"ul.citing a[href='/milestones/{RELATIONS}/']").count() == 1
    assert tab.locator("h1").inner_text() == "Mongolia–United States relations"
    assert tab.evaluate("document.querySelector(':target').id") == anchor
    row = tab.locator("ol.passages blockquote", has_text="July 1944 — Henry A. Wallace")
    assert row.count() == 1   # the visits table's row, read as text
    assert "|" not in tab.locator("ol.passages").inner_text()


HOME_SIZE = 30


@pytest.fixture(scope="module")
def bounded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server whose home page holds only the newest HOME_SIZE milestones of the data set."""
    folder = tmp_path_factory.mktemp("bounded")
    env = {"CHRONICLE_EXPORT_DIR": str(folder), "CHRONICLE_FEED__HOME_SIZE": str(HOME_SIZE)}
    with running_server(f"sqlite:///{folder / 'chronicle.db'}", env=env,
                        log_path=folder / "serve.log") as base:
        yield base


def test_a_bounded_home_page_filters_what_it_holds_and_links_the_tag_page(
        bounded: str, page: tuple[Any, Console]) -> None:
    tab, _console = page
    tab.goto(f"{bounded}/")
    assert visible_milestones(tab) == HOME_SIZE
    assert (f"The {MILESTONES - HOME_SIZE} earlier milestones are not shown here."
            in tab.locator("#timeline p.bounded").inner_text())
    assert tab.locator(".timeline-picture a.tl-mark").count() == HOME_SIZE
    tagged = int(tab.locator("#tags a[data-tag='visits'] .count").text_content())
    tab.locator("button[data-filter='visits']").click()
    shown = visible_milestones(tab)
    assert 0 < shown < tagged   # the shipped visits reach back past the newest 30
    status = tab.locator("#timeline [role=status]")
    assert status.inner_text() == (f"Showing {shown} of the most recent milestones tagged "
                                   "“visits”; the tag’s page lists every one.")
    status.locator("a").click()
    tab.wait_for_url(f"{bounded}/tags/visits/")
    assert tab.locator("ol.milestones li.milestone").count() == tagged
