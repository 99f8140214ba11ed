"""Page regeneration on chronicles of growing size (the static export: chronicle.bench.export).

Pages: the server's whole refresh after one new milestone (catch-up, the feeds, then every
page and the calendar), timed like the feeds row, so the two compare.

It leaves the card images out: a 1200x630 PNG costs tens of milliseconds to encode
(`card_ms`), so a first render of 100,000 of them would take the whole bench's budget many
times over. Their cost is reported on its own line instead.
"""

from __future__ import annotations

import statistics
import time
from functools import partial
from pathlib import Path

from chronicle import pages
from chronicle.bench.feedregen import Regeneration, first_renders, flat_rows, regenerate
from chronicle.bench.figures import Row, Say
from chronicle.bench.payloads import BenchEvent, EventFactory
from chronicle.bench.setup import SETUP
from chronicle.cards import CardFontMissing, milestone_card
from chronicle.config import Settings
from chronicle.domain import Milestone
from chronicle.feeds.documents import FollowedSource
from chronicle.feeds.model import Document
from chronicle.pages.builder import page_path
from chronicle.pages.live import LivePages
from chronicle.projections import ReadModels
from chronicle.web.state import ServerState

CARD_SAMPLES = 10
PAGE_REPEATS = 1      # a refresh of 100,000 milestones' pages takes tens of seconds


def pages_without_cards(settings: Settings, read_models: ReadModels) -> list[Document]:
    """Every page and the calendar, as the server renders them, without the card images."""
    return pages.documents(settings, read_models, cards=False)


PAGES_WITHOUT_CARDS = FollowedSource(pages_without_cards, partial(LivePages, cards=False))
"""The same, kept live as the server keeps the pages."""


def shows_milestone_page(state: ServerState, event: BenchEvent) -> bool:
    """The new milestone has its own page, its year page lists it, and so does the home page
    unless the home page is bounded (`feed.home_size`) and says how many it leaves out."""
    milestone_id = event.event.payload["id"]
    link = f"/milestones/{milestone_id}".encode()
    year = int(event.event.payload["date"]["date"][:4])
    own = state.cache.get(page_path("milestones", milestone_id))
    listing = state.cache.get(page_path("years", year))
    home = state.cache.get("/index.html")
    return (own is not None and listing is not None and link in listing.document.body
            and home is not None
            and (link in home.document.body or b' data-hidden="' in home.document.body))


def measure_pages(directory: Path, sizes: tuple[int, ...], runs: int, say: Say) -> list[Row]:
    results: dict[int, Regeneration] = {
        n: regenerate(directory / f"pages-{n}.db", n, runs, PAGE_REPEATS, say, what="pages",
                      sources=(PAGES_WITHOUT_CARDS,), shows=shows_milestone_page)
        for n in sizes}
    return flat_rows("pages", "pages", "pages after 1 new milestone", " milestones",
                     {n: result.sample for n, result in results.items()},
                     extra=f"; the server's whole refresh (catch-up, feeds, every page and the "
                           f"calendar; card images left out, see the card note), first full "
                           f"render {first_renders(results)}")


def card_ms() -> float | None:
    """The median time of one milestone card image (render and PNG encoding); None without fonts."""
    factory = EventFactory()
    times = []
    try:
        for number in range(CARD_SAMPLES + 1):
            milestone = Milestone.from_payload(factory.recorded(number).event.payload)
            started = time.perf_counter()
            milestone_card(milestone, "Chronicle")
            times.append((time.perf_counter() - started) * 1000)
    except CardFontMissing:
        return None
    return statistics.median(times[1:])     # the first loads the fonts


def card_note(sizes: tuple[int, ...]) -> str:
    with SETUP.timing("card samples"):
        milliseconds = card_ms()
    if milliseconds is None:
        return "card images: fonts missing, not measured"
    largest = max(sizes)
    seconds = milliseconds * largest / 1000
    return (f"card images (left out of the pages and export rows): {milliseconds:,.1f} ms per "
            f"milestone card; a first render of {largest:,} would take {seconds:,.0f} s")
