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
        self.placed: dict[str, dict[str, tuple[int, ...]]] = {}  # passages' years, by anchor
        self.pages = {slug: self._whole(slug) for slug in self.cited}

    def move(self, moved: Moved) -> set[str]:
        """Take the old versions' citations out and put the new ones in; the slugs touched
        (and in `years`, the years of their passages taken out or put in)."""
        touched: dict[str, set[str]] = {}
        self.years = {}
        gone = {view.id for view in moved.before}
        for view in moved.before:
            for source in view.milestone.sources:
                slug, anchor = source_slug(source), quote_anchor(source)
                touched.setdefault(slug, set()).add(anchor)
        for slug, anchors in touched.items():
            self.cited[slug] = [c for c in self.cited[slug] if c[1].id not in gone]
            self.linked[slug] = [c for c in self.linked[slug] if c[1].id not in gone]
            self.filed[slug] = [c for c in self.filed[slug] if c[1].id not in gone]
            for anchor in anchors:
                self.quoted[slug][anchor] = [c for c in self.quoted[slug].get(anchor, ())
                                             if c[1].id not in gone]
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
                del self.placed[slug], self.linked[slug], self.filed[slug]
        return set(touched)

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
        self.placed[slug] = {p.anchor: passage_years(p) for p in page.passages}
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
        passages = [p for p in old.passages if p.anchor not in anchors]
        years: SourceYears = dict(passages_by_year(old))
        touched, placed = self.years.setdefault(slug, set()), self.placed[slug]
        for anchor in anchors:
            for year in placed.pop(anchor, ()):
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
            placed[anchor] = passage_years(made)
            for year in placed[anchor]:
                touched.add(year)
                group = list(years.get(year, ()))
                bisect.insort(group, made, key=lambda p: self._order(slug, p))
                years[year] = tuple(group)
        return SourcePage(slug, head.title, head.publisher, head.url, tuple(passages),
                          {year: years[year] for year in sorted(years) if years[year]})

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
