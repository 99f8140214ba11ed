"""The documents the chronicle quotes, as pages: each passage in document order, and who cites it.

A source is named by its title (a slug of the title without its closing parenthesis, which names
the publisher), and a passage by a hash of its text, so a milestone's page links to
/sources/<slug>/#q-<hash> knowing only its own sources: a new milestone never changes another
milestone's page. A source of more than `feed.listing_size` passages is an index of years, a
passage on the page of each year its citing milestones count under (/sources/<slug>/<year>/), so
a milestone links its own year's page; only crossing the limit changes that link. Passages are
in the order the document has them when the document is in `seeds_dir`; otherwise in the order
of the milestones that cite them.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from chronicle.domain import Source
from chronicle.pages.pagedata import first_year
from chronicle.projections import MilestoneView
from chronicle.quotes import readable_quote

_PUBLISHER = re.compile(r"^(?P<title>.*\S)\s*\((?P<publisher>[^()]+)\)\s*$")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_SPACE = re.compile(r"\s+")
SLUG_LENGTH = 72
QUOTE_CACHE = 1 << 18   # quotes whose anchor and readable text are kept


def split_title(title: str) -> tuple[str, str | None]:
    """"Title (Publisher)" → ("Title", "Publisher"); a title without one → (title, None)."""
    found = _PUBLISHER.match(title)
    return (found["title"], found["publisher"].strip()) if found else (title.strip(), None)


def slug_of(text: str) -> str:
    """Lowercase ASCII words joined by hyphens ("Mongolia–United States" → "mongolia-united-
    states"): letters lose their accents, dashes and other marks separate words."""
    spaced = "".join(c if c.isalnum() else " " for c in text)
    ascii_text = unicodedata.normalize("NFKD", spaced).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")[:SLUG_LENGTH].rstrip("-")
    return slug or "source"


def source_slug(source: Source) -> str:
    """The source page's name: its title's, without the publisher."""
    return _title_slug(source.title)


@functools.lru_cache(maxsize=4096)
def _title_slug(title: str) -> str:
    """Worked out once per title: a milestone page's memo key asks for its sources' slugs."""
    return slug_of(split_title(title)[0])


def _normalised(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def passage_anchor(quote: str) -> str:
    """A passage's fragment id: the same text always gets the same one."""
    return "q-" + hashlib.sha256(_normalised(quote).encode()).hexdigest()[:10]


@dataclass(frozen=True, slots=True)
class Passage:
    anchor: str
    text: str                               # as a reader reads it (table rows without pipes)
    citing: tuple[MilestoneView, ...]       # in historical order
    offset: int | None                      # where the document has it, when known


SourceYears = dict[int, tuple[Passage, ...]]


@dataclass(frozen=True, slots=True)
class SourcePage:
    slug: str
    title: str
    publisher: str | None
    url: str | None
    passages: tuple[Passage, ...]
    # The passages by year (`passages_by_year`), when the maker has them already.
    years: SourceYears | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> tuple[object, ...]:
        """What the page shows: it changes when a passage or a citing milestone does."""
        return (self.slug, self.title, self.publisher, self.url,
                tuple((p.anchor, p.offset, tuple((v.id, v.updated_position) for v in p.citing))
                      for p in self.passages))


def passage_years(passage: Passage) -> tuple[int, ...]:
    """The years a passage is listed under on its source's year pages: those its citing
    milestones count under, so a milestone's page links its passage on its own year's page
    knowing only itself."""
    return tuple(sorted({first_year(view) for view in passage.citing}))


def passages_by_year(page: SourcePage) -> SourceYears:
    """The page's passages by `passage_years`, years ascending, the page's order within one."""
    if page.years is not None:
        return page.years
    found: dict[int, list[Passage]] = {}
    for placed in page.passages:
        for year in passage_years(placed):
            found.setdefault(year, []).append(placed)
    return {year: tuple(found[year]) for year in sorted(found)}


@functools.lru_cache(maxsize=64)
def _document_text(path: Path, _mtime_ns: int) -> str:
    return _normalised(path.read_text(encoding="utf-8", errors="replace"))


def document_text(folder: Path | None, name: str | None) -> str | None:
    """The cited document, whitespace collapsed; None when it cannot be read."""
    if folder is None or not name:
        return None
    path = folder / name
    try:
        return _document_text(path, path.stat().st_mtime_ns)
    except (OSError, ValueError):
        return None


def _offset(document: str | None, quote: str) -> int | None:
    if document is None:
        return None
    found = document.find(_normalised(quote))
    return found if found >= 0 else None


Citation = tuple[Source, MilestoneView]


def citations(milestones: Iterable[MilestoneView]) -> dict[str, list[Citation]]:
    """Each cited source's slug and its citations, in the order of `milestones`."""
    cited: dict[str, list[Citation]] = {}
    for view in milestones:
        for source in view.milestone.sources:
            cited.setdefault(source_slug(source), []).append((source, view))
    return cited


def source_pages(milestones: Iterable[MilestoneView],
                 documents_dir: Path | None) -> list[SourcePage]:
    """Every source cited by `milestones` (historical order), by slug."""
    cited = citations(milestones)
    return [source_page(slug, cited[slug], documents_dir) for slug in sorted(cited)]


@functools.lru_cache(maxsize=QUOTE_CACHE)
def _quoted(quote: str) -> tuple[str, str]:
    """A quote's anchor and readable text: a source page is rebuilt whenever a milestone
    citing it changes, so each quote's are worked out once."""
    return passage_anchor(quote), readable_quote(quote)


def quote_anchor(source: Source) -> str:
    """The fragment id of the passage `source` quotes."""
    return _quoted(source.quote)[0]


@dataclass(frozen=True, slots=True)
class SourceHead:
    """What a source page takes from its citations besides the passages."""

    title: str
    publisher: str | None
    url: str | None
    file: str | None


def source_head(citations: Sequence[Citation], linked: Sequence[Citation] | None = None,
                filed: Sequence[Citation] | None = None) -> SourceHead:
    """The first citation's title; the first URL and file any citation gives (`linked`,
    `filed`: the citations giving one, in order, when the caller keeps them: where none
    gives a file, finding so is a pass over every citation)."""
    title, publisher = split_title(citations[0][0].title)
    linked = citations if linked is None else linked
    filed = citations if filed is None else filed
    return SourceHead(title, publisher, next((s.url for s, _ in linked if s.url), None),
                      next((s.file for s, _ in filed if s.file), None))


def by_anchor(citations: Iterable[Citation]) -> dict[str, list[Citation]]:
    """The citations of each passage, in the order of `citations`, passages by first citation."""
    found: dict[str, list[Citation]] = {}
    for citation in citations:
        found.setdefault(quote_anchor(citation[0]), []).append(citation)
    return found


def passage(anchor: str, citing: Sequence[Citation], document: str | None) -> Passage:
    """A passage from its citations (in order): the first one's quote, each milestone once."""
    quote = citing[0][0].quote
    views: list[MilestoneView] = []
    for _, view in citing:
        if view not in views:
            views.append(view)
    return Passage(anchor, _quoted(quote)[1], tuple(views), _offset(document, quote))


def source_page(slug: str, citations: Sequence[Citation],
                documents_dir: Path | None) -> SourcePage:
    head = source_head(citations)
    document = document_text(documents_dir, head.file)
    passages = [passage(anchor, citing, document)
                for anchor, citing in by_anchor(citations).items()]
    unplaced = len(document or "") + 1   # passages the document does not show come last
    passages.sort(key=lambda p: (p.offset, p.anchor) if p.offset is not None else (unplaced, ""))
    return SourcePage(slug, head.title, head.publisher, head.url, tuple(passages))
