"""The source pages kept between refreshes: a change rebuilds only the passages it touches.

Every bench milestone, and many real ones, cite the same document, so its page holds a
passage per milestone: rebuilding it from all its citations (`source_page`) on each new
milestone costs a pass over them all, with a search of the document for each quote. Here
each page keeps its passages; a move takes out those of the anchors the changed milestones
quote and puts them back, rebuilt from their own citations, where a full build sorts them:
by where the document has them, then the others in the order of their first citation. A
change of title, URL or document rebuilds the page whole. The pages equal `source_pages`
over the same milestones (tests/test_pages_livesources.py).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import replace

from chronicle.config import Settings
from chronicle.pages.livedata import Key, Moved
from chronicle.pages.pagedata import historical_key
from chronicle.pages.sources import (
    Citation,
    Passage,
    SourcePage,
    SourceYears,
    by_anchor,
    citations,
    document_text,
    passage,
    passage_years,
    passages_by_year,
    quote_anchor,
    source_head,
    source_page,
    source_slug,
)
from chronicle.projections import MilestoneView

Order = tuple[int, int, str, Key, int]


class SourceSet:
    """The source pages of the snapshot, each rebuilt only where its citations change."""

    def __init__(self, milestones: Iterable[MilestoneView], keys: dict[str, Key],
                 settings: Settings) -> None:
        self.folder = settings.path(settings.seeds_dir)
        self.keys = keys      # the historical keys, kept current by the caller (PageSet)
        self.cited = citations(milestones)
        self.quoted = {slug: by_anchor(cited) for slug, cited in self.cited.items()}
        # The citations giving a URL and a file, by slug (for `source_head`).
        self.linked = {slug: [c for c in cited if c[0].url] for slug, cited in self.cited.items()}
        self.filed = {slug: [c for c in cited if c[0].file] for slug, cited in self.cited.items()}
        self.documents: dict[str, str | None] = {}
        self.years: dict[str, set[int]] = {}   # the last move's years of a page, by slug
        self.placed: dict[str, dict[str, Passage]] = {}  # each page's passages, by anchor
        # Each page's passages as a list of this set's own, changed in place: a new page
        # copies it once (a list of the old page's tuple, then a tuple of it, was twice).
        self.listed: dict[str, list[Passage]] = {}
        self.pages = {slug: self._whole(slug) for slug in self.cited}

    def move(self, moved: Moved) -> set[str]:
        """Take the old versions' citations out and put the new ones in; the slugs touched
        (and in `years`, the years of their passages taken out or put in)."""
        self.years = {}
        touched = self._take_out(moved.before)
        for view in moved.after:
            for source in view.milestone.sources:
                slug, anchor = source_slug(source), quote_anchor(source)
                touched.setdefault(slug, set()).add(anchor)
                bisect.insort(self.cited.setdefault(slug, []), (source, view), key=self._key)
                for kept, gives in ((self.linked, source.url), (self.filed, source.file)):
                    kept.setdefault(slug, [])
                    if gives:
                        bisect.insort(kept[slug], (source, view), key=self._key)
                bisect.insort(self.quoted.setdefault(slug, {}).setdefault(anchor, []),
                              (source, view), key=self._key)
        for slug, anchors in touched.items():
            if self.cited[slug]:
                self.pages[slug] = self._moved(slug, anchors)
            else:
                del self.cited[slug], self.quoted[slug], self.pages[slug], self.documents[slug]
                del self.placed[slug], self.linked[slug], self.filed[slug], self.listed[slug]
        return set(touched)

    def _take_out(self, before: tuple[MilestoneView, ...]) -> dict[str, set[str]]:
        """Take the citations of revised milestones' previous versions out; the anchors
        they quoted, by slug."""
        touched: dict[str, set[str]] = {}
        for view in before:
            for source in view.milestone.sources:
                touched.setdefault(source_slug(source), set()).add(quote_anchor(source))
        gone = {view.id for view in before}
        for slug, anchors in touched.items():
            for kept in (self.cited, self.linked, self.filed):
                for old in before:
                    _drop(kept[slug], old)
            for anchor in anchors:
                self.quoted[slug][anchor] = [c for c in self.quoted[slug].get(anchor, ())
                                             if c[1].id not in gone]
        return touched

    def ordered(self) -> list[SourcePage]:
        return [self.pages[slug] for slug in sorted(self.pages)]

    def _key(self, citation: Citation) -> Key:
        return self.keys[citation[1].id]

    def _whole(self, slug: str) -> SourcePage:
        """The page built from all its citations (and the quoted passages' index redone)."""
        cited = self.cited[slug]
        self.quoted[slug] = by_anchor(cited)
        self.documents[slug] = document_text(self.folder, source_head(cited).file)
        page = source_page(slug, cited, self.folder)
        years = passages_by_year(page)
        self.years[slug] = set(years)
        self.placed[slug] = {p.anchor: p for p in page.passages}
        self.listed[slug] = list(page.passages)
        return replace(page, years=years)

    def _moved(self, slug: str, anchors: set[str]) -> SourcePage:
        """The page with the passages of `anchors` rebuilt and put back in place."""
        old, cited = self.pages.get(slug), self.cited[slug]
        head = source_head(cited, self.linked[slug], self.filed[slug])
        document = document_text(self.folder, head.file)
        if (old is None or (old.title, old.publisher, old.url) != (head.title, head.publisher,
                                                                   head.url)
                or document is not self.documents.get(slug)):
            return self._whole(slug)
        passages = self.listed[slug]
        years: SourceYears = dict(passages_by_year(old))
        touched, placed = self.years.setdefault(slug, set()), self.placed[slug]
        for anchor in anchors:
            gone = placed.pop(anchor, None)
            if gone is None:    # a new passage: nothing to take out
                continue
            del passages[self._index(slug, passages, gone)]
            for year in passage_years(gone):
                touched.add(year)
                years[year] = tuple(p for p in years[year] if p.anchor != anchor)
        quoted = self.quoted[slug]
        for anchor in anchors:
            citing = quoted.get(anchor)
            if not citing:
                quoted.pop(anchor, None)
                continue
            made = passage(anchor, citing, document)
            bisect.insort(passages, made, key=lambda p: self._order(slug, p))
            placed[anchor] = made
            for year in passage_years(made):
                touched.add(year)
                group = list(years.get(year, ()))
                bisect.insort(group, made, key=lambda p: self._order(slug, p))
                years[year] = tuple(group)
        return SourcePage(slug, head.title, head.publisher, head.url, tuple(passages),
                          {year: years[year] for year in sorted(years) if years[year]})

    def _index(self, slug: str, passages: list[Passage], gone: Passage) -> int:
        """Where `gone` is among `passages`: where its order puts it (a bisection), else
        (its first citing milestone was revised: it sorts elsewhere now) found by a pass."""
        index = bisect.bisect_left(passages, self._order(slug, gone),
                                   key=lambda p: self._order(slug, p))
        if index < len(passages) and passages[index] is gone:
            return index
        return next(i for i, p in enumerate(passages) if p is gone)

    def _order(self, slug: str, placed: Passage) -> Order:
        """Where `source_page` sorts a passage: by its offset in the document, the others
        after them in the order of their first citation (its milestone, then its place
        among that milestone's sources)."""
        if placed.offset is not None:
            return 0, placed.offset, placed.anchor, ("", ""), 0
        first = placed.citing[0]
        index = next(i for i, source in enumerate(first.milestone.sources)
                     if quote_anchor(source) == placed.anchor and source_slug(source) == slug)
        return 1, 0, "", self.keys[first.id], index


def _drop(cited: list[Citation], old: MilestoneView) -> None:
    """Take the citations of `old` (a revised milestone's previous version) out of `cited`,
    where their historical key put them: each was inserted under its own view's key (the
    caller's keys hold the new version's by now)."""
    low = bisect.bisect_left(cited, historical_key(old), key=lambda c: historical_key(c[1]))
    high = low
    while high < len(cited) and cited[high][1].id == old.id:
        high += 1
    del cited[low:high]
