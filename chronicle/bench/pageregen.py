"""Page regeneration and the static export, on chronicles of growing size.

Pages: the server's whole refresh after one new milestone (catch-up, the feeds, then every
page and the calendar), timed like the feeds row, so the two compare. Export: every document
of the site rendered from scratch and written as files into an empty directory, as
`chronicle export` does the first time, in documents per second.

Both leave the card images out: a 1200x630 PNG costs tens of milliseconds to encode
(`card_ms`), so a first render of 100,000 of them would take the whole bench's budget many
times over. Their cost is reported on its own line instead.
"""

from __future__ import annotations

import shutil
import statistics
import time
from functools import partial
from pathlib import Path

from chronicle import pages
from chronicle.bench.feedregen import Regeneration, first_renders, flat_rows, regenerate
from chronicle.bench.figures import Row, Sample, Say
from chronicle.bench.logs import milestone_chronicle
from chronicle.bench.payloads import BenchEvent, EventFactory
from chronicle.cards import CardFontMissing, milestone_card
from chronicle.config import Settings
from chronicle.domain import Milestone
from chronicle.feeds.documents import FollowedSource, SiteDocuments
from chronicle.feeds.export import SiteWriter
from chronicle.feeds.model import Document
from chronicle.pages.builder import page_path
from chronicle.pages.live import LivePages
from chronicle.projections import ReadModels
from chronicle.web.state import ServerState

CARD_SAMPLES = 10
PAGE_REPEATS = 1      # a refresh of 100,000 milestones' pages takes tens of seconds
PROJECTED = 100_000   # the export size the aim is set at (too long to measure in the full run)


def pages_without_cards(settings: Settings, read_models: ReadModels) -> list[Document]:
    """Every page and the calendar, as the server renders them, without the card images."""
    return pages.documents(settings, read_models, cards=False)


PAGES_WITHOUT_CARDS = FollowedSource(pages_without_cards, partial(LivePages, cards=False))
"""The same, kept live as the server keeps the pages."""


def shows_milestone_page(state: ServerState, event: BenchEvent) -> bool:
    """The new milestone has its own page and the timeline on the home page lists it."""
    milestone_id = event.event.payload["id"]
    own = state.cache.get(page_path("milestones", milestone_id))
    home = state.cache.get("/index.html")
    return (own is not None and home is not None
            and f"/milestones/{milestone_id}".encode() in home.document.body)


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


def export_rate(directory: Path, milestones: int, say: Say) -> tuple[float, int]:
    """Documents per second for one first export of every document; and how many."""
    store = milestone_chronicle(directory / f"export-{milestones}.db", milestones,
                                directory / "originals")
    out = directory / f"site-{milestones}"
    try:
        started = time.perf_counter()
        site = SiteDocuments(Settings.model_validate({}), ReadModels(store.engine),
                             sources=(pages_without_cards,))
        documents = site.documents(store.head())
        report = SiteWriter(out).write_all(documents)
        elapsed = time.perf_counter() - started
    finally:
        store.close()
        shutil.rmtree(out, ignore_errors=True)
    assert len(report.written) == len(documents), "the export skipped documents of a new site"
    say(f"export {milestones:,} milestones: {len(documents):,} documents in {elapsed:,.1f} s "
        f"(render {sum(site.timings.values()):,.1f} s)")
    return len(documents) / elapsed, len(documents)


def measure_export(directory: Path, sizes: tuple[int, ...], runs: int, say: Say) -> list[Row]:
    samples: dict[int, Sample] = {n: Sample() for n in sizes}
    counts: dict[int, int] = {}
    for run in range(runs):
        for size in sizes:
            rate, counts[size] = export_rate(directory, size, say)
            samples[size].runs.append(rate)
        say(f"export run {run + 1}/{runs} done")
    smallest = min(sizes)
    return [Row(f"export.{size}", "export",
                f"static export, {size:,} milestones ({counts[size]:,} documents)",
                "documents/s", f"same, {smallest:,} milestones", samples[size],
                samples[smallest],
                note=f"{counts[size] / samples[size].median:,.1f} s for the whole site; at this "
                     f"rate {PROJECTED:,} milestones would take "
                     f"{PROJECTED * counts[size] / size / samples[size].median:,.0f} s (aim: "
                     f"under a minute); every document rendered from scratch and written "
                     f"(fsync, rename) into an empty directory; card images left out")
            for size in sorted(sizes) if size != smallest]


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
    milliseconds = card_ms()
    if milliseconds is None:
        return "card images: fonts missing, not measured"
    largest = max(sizes)
    seconds = milliseconds * largest / 1000
    return (f"card images (left out of the pages and export rows): {milliseconds:,.1f} ms per "
            f"milestone card; a first render of {largest:,} would take {seconds:,.0f} s")
