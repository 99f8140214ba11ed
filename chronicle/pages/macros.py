"""The templates' small macros that every milestone page and card calls, as Python.

A Jinja macro call builds a frame of generators and a Markup per call; a milestone page
calls four of them (its date, tags, translation note and history) and a tag or year page a
`card` (with its `date` and `tag_links`) per milestone: a fifth of a milestone page's
rendering, and the static export renders every page in two languages. These functions
return the very text the macros made (same escaping: `escape_output`, which the compiled
templates call for every `{{ … }}`); the templates call them as globals
(`PageRenderer.__init__`), and tests/test_pages_macros.py compares them with the macros'
Jinja text on varied milestones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from markupsafe import Markup

from chronicle.dates import HistoricalDate
from chronicle.localized import LocalizedMilestone
from chronicle.pages.audit import AuditEntry
from chronicle.pages.quickjinja import escape_output as out
from chronicle.projections import MilestoneView

Translate = Callable[..., Markup]   # `_()` in the templates (PageRenderer.translate)
UNREVIEWED = ("This translation is a machine-assisted draft that no one has reviewed yet; "
              "the English page is the reference.")
UNTRANSLATED = "This milestone is not translated yet: its text is shown in English."


class Macros:
    """`date`, `tag_links`, `draft_note`, `trail_list` and `card` of one language's renderer:
    its `_()`, `url()`, `loc()`, `fb()`, filters and `en` mark, as the templates see them."""

    def __init__(self, translate: Translate, url: Callable[..., str],
                 localize: Callable[[Any], LocalizedMilestone],
                 fallback: Callable[[LocalizedMilestone, str], Markup],
                 date_words: Callable[[HistoricalDate], str], lookup: Callable[[str], str],
                 utc_words: Callable[[dt.datetime], str], english_mark: Markup) -> None:
        self._ = translate
        self.url, self.loc, self.fb = url, localize, fallback
        self.date_words, self.lookup, self.utc_words = date_words, lookup, utc_words
        self.en = str(english_mark)

    def globals(self) -> dict[str, Callable[..., Markup]]:
        """The templates' names for them."""
        return {"date": self.date, "tag_links": self.tag_links, "draft_note": self.draft_note,
                "trail_list": self.trail_list, "card": self.card}

    def date(self, d: HistoricalDate, caveat: str | None = None) -> Markup:
        text = f'<time datetime="{out(d.iso_start())}">{out(self.date_words(d))}</time>'
        if caveat:
            text += f' <span class="date-caveat"{self.en}>({out(caveat)})</span>'
        return Markup(text)

    def tag_links(self, tags: Sequence[str]) -> Markup:
        if not tags:
            return Markup("")
        links = "".join(f'<li><a href="{out(self.url("tag", tag))}" rel="tag">{out(tag)}</a>'
                        f"</li>\n" for tag in tags)
        return Markup(f'<ul class="tags" aria-label="{out(self._("Tags"))}"{self.en}>\n'
                      f"{links}</ul>\n")

    def draft_note(self, lm: LocalizedMilestone) -> Markup:
        if lm.reviewed is False:
            note = UNREVIEWED
        elif lm.fallbacks and lm.reviewed is None:
            note = UNTRANSLATED
        else:
            return Markup("")
        return Markup(f'<p class="translation-note" role="note">{out(self._(note))}</p>\n')

    def trail_list(self, trail: Sequence[AuditEntry]) -> Markup:
        return Markup(f'<ol class="audit">\n{"".join(map(self._entry, trail))}</ol>')

    def _entry(self, entry: AuditEntry) -> str:
        text = (f'<li class="audit-{out(entry.kind)}">\n'
                f"<p><strong>{out(self.lookup(entry.label))}</strong>\n"
                f'<time datetime="{out(entry.recorded_at.isoformat())}">'
                f"{out(self.utc_words(entry.recorded_at))}</time>\n"
                f'<span class="muted">· '
                f'{out(self._("log position %(position)s", position=entry.position))}'
                f"</span></p>\n")
        if entry.reason:
            text += (f'<p class="reason">{out(self._("Reason:"))} <span{self.en}>'
                     f"{out(entry.reason)}</span></p>\n")
        if entry.changes:
            text += f'<dl class="changes"{self.en}>\n'
            for change in entry.changes:
                value = out(change.value)
                if change.old is not None:
                    value = (f'<del><span class="visually-hidden">was: </span>{out(change.old)}'
                             f'</del> <span aria-hidden="true">→</span> <ins><span '
                             f'class="visually-hidden">now: </span>{value}</ins>')
                text += f"<dt>{out(change.field)}</dt>\n<dd>{value}</dd>\n"
            text += "</dl>\n"
        return text + "</li>\n"

    def card(self, view: MilestoneView, level: int) -> Markup:
        """A milestone's entry in the timeline and the listings."""
        m = view.milestone
        lm = self.loc(m)
        ident, title_mark = out(m.id), out(self.fb(lm, "title"))
        summary = (f'<p class="summary"{out(self.fb(lm, "summary"))}>{out(lm.summary)}</p>\n'
                   if lm.summary else "")
        return Markup(f'<li class="milestone" id="m-{ident}" data-tags="{out(" ".join(m.tags))}">'
                      f'\n<article aria-labelledby="t-{ident}">\n'
                      f'<h{out(level)} id="t-{ident}"{title_mark}><a '
                      f'href="{out(self.url("milestone", m.id))}">{out(lm.title)}</a>'
                      f"</h{out(level)}>\n"
                      f'<p class="date">{out(self.date(m.date, m.date_caveat))}</p>\n'
                      f"{summary}{out(self.tag_links(m.tags))}\n</article>\n</li>")
