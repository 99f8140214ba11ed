"""Anniversary post texts that each channel will accept.

Texts come from Jinja2 templates rendered in a sandbox (templates are configuration, not code)
with ``StrictUndefined`` so a misspelt variable fails loudly instead of posting a gap. A
milestone may carry its own text (``anniversary.text``, and ``anniversary.round`` for round
counts) written by an editor; it is rendered as written and followed by the milestone's link,
never shortened. Otherwise the generic templates below apply. They keep the milestone's title
as a headline after a colon ("January 27, 1987: The United States and …"), so a present-tense
title never sits inside a past-tense sentence and never follows a comma; they say "1 year", and
name the count once (round years say "the 40th anniversary" instead of "40 years").

Mongolian has its generic templates too (``MN_TEMPLATES``): the same three shapes, the count
said as Mongolian says it ("40 жилийн ой", "40 жилийн өмнө"), the date from CLDR ("1987 оны
нэгдүгээр сарын 27") before the title as a headline. A language is added by adding its
templates to ``LANGUAGE_TEMPLATES`` (without them, only milestones with their own translated
text post in it). ``posting.template_*`` override English's only.

Length is measured the channel's way (:class:`~chronicle.publishers.TextLimit`: X's weighted
length, Mastodon's, Bluesky's graphemes, the outbox's characters).

Shortening rule, applied only when the full text is over the limit; every step is measured
and the first text that fits is returned:

1. shorten the summary to its longest word prefix that fits, ending it with "…", as long as
   at least ``MIN_SUMMARY_WORDS`` words remain (a stub such as "The…" says nothing);
2. drop the summary;
3. shorten the title to its longest word prefix that fits, ending it with "…";
4. give up with :class:`PostTooLong`.

Cuts fall only on whitespace, so no word and no URL inside a text is ever split; the
milestone's URL is never shortened or removed. Scripts written without spaces (CJK) therefore
lose a whole summary rather than being cut mid-phrase. In a digest the same steps apply to all
occasions together (one common word cap). Inputs are normalised to NFC, runs of whitespace are
collapsed to one space, and control characters and the characters X rejects (twitter-text's
"invalid characters": U+FEFF, U+FFFE, U+FFFF) are removed.

Fitting costs the same whatever the summary's length: before any measuring, a summary is
bounded to as many words, and four times as many characters, as the channel takes in all (every
word weighs at least one, a space one more), so a megabyte of summary is measured as a few
hundred characters, in a dozen renders of a binary search.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from jinja2 import Template
from num2words import num2words

from chronicle import datewords
from chronicle.anniversary_text import compiled
from chronicle.publishers.base import TextLimit
from chronicle.publishers.xtext import (
    X_MAX_WEIGHT,
    X_TEXT_LIMIT,
    rejected_characters,
    weighted_length,
)

__all__ = [
    "DEFAULT_TEMPLATES",
    "LANGUAGE_TEMPLATES",
    "MN_TEMPLATES",
    "X_MAX_WEIGHT",
    "Occasion",
    "PostComposer",
    "PostTemplates",
    "PostTooLong",
    "is_round",
    "ordinal",
    "weighted_length",
]

ELLIPSIS = "…"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CHARS_PER_UNIT = 4
"""A summary is bounded to this many characters per unit of the channel's limit."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Occasion:
    """One milestone's anniversary on one day.

    ``date_words`` is the historical date as the feeds say it ("27 January 1987"),
    ``full_date`` as a post says it ("January 27, 1987"), ``month_day_words`` the day of the
    post ("January 27"). ``text``/``round_text`` are the milestone's own templates, if any.
    """

    milestone_id: str
    title: str
    summary: str
    anniversary_of: str | None
    date_words: str
    month_day_words: str
    years: int
    url: str
    year: int
    full_date: str = ""
    text: str | None = None
    round_text: str | None = None
    language: str = "en"


_HEADLINE = "{{ full_date or date_words }}: {{ title }}.{% if summary %} {{ summary }}{% endif %}"
_UNIT = "{% set unit = 'year' if years == 1 else 'years' %}"
_REGULAR = (
    _UNIT + "{% if anniversary_of %}"
    "Today, {{ month_day_words }}, we mark {{ years }} {{ unit }} of {{ anniversary_of }}. "
    "{% else %}{{ years }} {{ unit }} ago today. {% endif %}" + _HEADLINE + " {{ url }}"
)
_ROUND = (
    "{% if anniversary_of %}Today, {{ month_day_words }}, we mark the {{ ordinal }} "
    "anniversary of {{ anniversary_of }}. "
    "{% else %}Today is the {{ ordinal }} anniversary. {% endif %}" + _HEADLINE + " {{ url }}"
)
_DIGEST = (
    "Today, {{ month_day_words }}, we mark:"
    "{% for o in occasions %}\n- {{ o.years }} {{ 'year' if o.years == 1 else 'years' }} "
    "since {{ o.full_date or o.date_words }}: {{ o.title }}."
    "{% if o.summary %} {{ o.summary }}{% endif %} {{ o.url }}{% endfor %}"
)


@dataclass(frozen=True, kw_only=True, slots=True)
class PostTemplates:
    """Jinja2 sources for single and digest posts; ``round`` is used for round year counts."""

    regular: str = _REGULAR
    round: str = _ROUND
    digest: str = _DIGEST
    round_every: tuple[int, ...] = (5, 10)

    def __post_init__(self) -> None:
        if any(n < 1 for n in self.round_every):
            raise ValueError(f"round_every must hold positive integers: {self.round_every}")


DEFAULT_TEMPLATES = PostTemplates()

_MN_HEADLINE = (
    "{{ full_date or date_words }}: {{ title }}.{% if summary %} {{ summary }}{% endif %}")
MN_TEMPLATES = PostTemplates(
    regular="{{ years }} жилийн өмнө өнөөдөр. " + _MN_HEADLINE + " {{ url }}",
    round="Өнөөдөр {{ years }} жилийн ой тохиож байна. " + _MN_HEADLINE + " {{ url }}",
    digest=(
        "Өнөөдөр, {{ month_day_words }}, тохиож буй ойнууд:"
        "{% for o in occasions %}\n- {{ o.years }} жилийн өмнө, {{ o.full_date or o.date_words }}: "
        "{{ o.title }}.{% if o.summary %} {{ o.summary }}{% endif %} {{ o.url }}{% endfor %}"
    ),
)
"""Mongolian generic texts: "40 жилийн өмнө өнөөдөр." ("40 years ago today."), "Өнөөдөр 40
жилийн ой тохиож байна." ("Today is the 40th anniversary."), and the digest."""

LANGUAGE_TEMPLATES: dict[str, PostTemplates] = {"en": DEFAULT_TEMPLATES, "mn": MN_TEMPLATES}
"""The generic templates shipped per language."""


MIN_SUMMARY_WORDS = 6
"""A summary cut shorter than this is dropped instead."""


class PostTooLong(ValueError):
    """Even the shortest allowed form of the post is over the channel's limit."""


def is_round(years: int, round_every: Sequence[int]) -> bool:
    """Whether ``years`` deserves the round-anniversary wording (never below 5 years)."""
    return years >= 5 and any(years % n == 0 for n in round_every)


def ordinal(years: int, language: str = "en") -> str:
    """ "40th"; "40 дэх" in Mongolian (chronicle.datewords writes each language's)."""
    return datewords.ordinal(years, language)


def _years_words(years: int, language: str) -> str:
    """ "forty" in English; elsewhere the count as the language says it ("40 жил")."""
    # num2words, not inflect: same words, but inflect's import costs ~3 s of CPU per process.
    return str(num2words(years)) if language == "en" else datewords.years_words(years, language)


def _clean(text: str) -> str:
    """NFC, no characters X rejects, no control characters, single spaces."""
    text = unicodedata.normalize("NFC", text)
    text = rejected_characters().sub("", text)
    text = " ".join(text.split())  # before stripping controls: tabs/newlines are whitespace
    return _CONTROL.sub("", text)


def _bounded(text: str, limit: TextLimit) -> str:
    """At most as many words, and CHARS_PER_UNIT times as many characters, as the limit.

    Nothing beyond either bound can be part of a text that fits, so cutting it first changes
    no result and keeps every later measure short. The character cut keeps whole words.
    """
    max_chars = limit.max_length * CHARS_PER_UNIT
    if len(text) > max_chars:
        cut = text[: max_chars + 1]
        text = cut[: cut.rfind(" ")] if " " in cut else ""
    words = text.split(maxsplit=limit.max_length)
    return " ".join(words[: limit.max_length])


def _clean_occasion(occasion: Occasion, limit: TextLimit) -> Occasion:
    return replace(
        occasion,
        title=_clean(_bounded(occasion.title, limit)),
        summary=_clean(_bounded(occasion.summary, limit)),
        anniversary_of=_clean(occasion.anniversary_of) if occasion.anniversary_of else None,
        date_words=_clean(occasion.date_words),
        full_date=_clean(occasion.full_date),
        month_day_words=_clean(occasion.month_day_words),
        url=_clean(occasion.url),
    )


def _context(occasion: Occasion) -> dict[str, Any]:
    """Every template variable: the shared ones of milestone texts, and the generic ones."""
    return {
        "milestone_id": occasion.milestone_id,
        "years": occasion.years,
        "ordinal": ordinal(occasion.years, occasion.language),
        "years_words": _years_words(occasion.years, occasion.language),
        "title": occasion.title,
        "summary": occasion.summary,
        "anniversary_of": occasion.anniversary_of,
        "date": occasion.month_day_words,
        "full_date": occasion.full_date,
        "year": occasion.year,
        "date_words": occasion.date_words,
        "month_day_words": occasion.month_day_words,
        "url": occasion.url,
    }


def _cut_words(text: str, max_words: int | None) -> str:
    """Keep at most ``max_words`` whole words, marking a cut with an ellipsis."""
    if max_words is None:
        return text
    words = text.split(" ")
    if max_words <= 0 or not text:
        return ""
    if len(words) <= max_words:
        return text
    kept = " ".join(words[:max_words])
    return (kept.rstrip(" ,;:.") or kept) + ELLIPSIS


def _word_count(texts: Sequence[str]) -> int:
    return max((len(t.split(" ")) for t in texts if t), default=0)


def _largest_fitting(lo: int, hi: int, make: Callable[[int], str | None]) -> str | None:
    """Binary search for the largest word cap whose text fits (``make`` returns None if not)."""
    best: str | None = None
    while lo <= hi:
        mid = (lo + hi) // 2
        text = make(mid)
        if text is not None:
            best, lo = text, mid + 1
        else:
            hi = mid - 1
    return best


class PostComposer:
    """Renders occasions into post texts that fit one channel's limit."""

    def __init__(self, templates: PostTemplates = DEFAULT_TEMPLATES,
                 limit: TextLimit = X_TEXT_LIMIT) -> None:
        if limit.max_length < 1:
            raise ValueError(f"a text limit must be positive, got {limit.max_length}")
        self.templates = templates
        self.limit = limit
        self._regular: Template = compiled(templates.regular)
        self._round: Template = compiled(templates.round)
        self._digest: Template = compiled(templates.digest)

    def compose(self, occasion: Occasion) -> str:
        """One occasion's post: its own text if it has one, else the generic one, fitted."""
        rounded = is_round(occasion.years, self.templates.round_every)
        own = (occasion.round_text if rounded else None) or occasion.text
        if own is not None:
            return self._own(occasion, own)
        template = self._round if rounded else self._regular
        return self._fit([occasion], lambda occs: template.render(_context(occs[0])))

    def compose_digest(self, occasions: Sequence[Occasion]) -> str:
        """Several occasions of one day in one post (same shortening rule, applied to all)."""
        if not occasions:
            raise ValueError("a digest needs at least one occasion")
        return self._fit(list(occasions), self._render_digest)

    def _own(self, occasion: Occasion, source: str) -> str:
        """An editor's text, as written, and the link: never shortened (an editor signed it)."""
        cleaned = _clean_occasion(occasion, self.limit)
        body = _clean(compiled(source).render(_context(cleaned)))
        text = self._accept(f"{body} {cleaned.url}")
        if text is None:
            raise PostTooLong(
                f"post for {occasion.milestone_id}: its own anniversary text is over the "
                f"limit of {self.limit.max_length} "
                f"({self.limit.measure(body + ' ' + cleaned.url)}); shorten it in its YAML")
        return text

    def _render_digest(self, occasions: Sequence[Occasion]) -> str:
        return self._digest.render(
            occasions=[_context(o) for o in occasions],
            month_day_words=occasions[0].month_day_words,
            date=occasions[0].month_day_words,
            count=len(occasions),
        )

    def _accept(self, text: str) -> str | None:
        text = unicodedata.normalize("NFC", text).strip()
        return text if text and self.limit.fits(text) else None

    def _fit(
        self, occasions: Sequence[Occasion], render: Callable[[Sequence[Occasion]], str]
    ) -> str:
        cleaned = [_clean_occasion(o, self.limit) for o in occasions]

        def attempt(summary_cap: int | None, title_cap: int | None) -> str | None:
            shortened = [
                replace(
                    o,
                    summary=_cut_words(o.summary, summary_cap),
                    title=_cut_words(o.title, title_cap),
                )
                for o in cleaned
            ]
            return self._accept(render(shortened))

        summary_words = _word_count([o.summary for o in cleaned])
        title_words = _word_count([o.title for o in cleaned])
        text = (
            attempt(None, None)
            or _largest_fitting(MIN_SUMMARY_WORDS, summary_words - 1, lambda k: attempt(k, None))
            or attempt(0, None)
            or _largest_fitting(1, title_words - 1, lambda k: attempt(0, k))
        )
        if text is None:
            shortest = unicodedata.normalize(
                "NFC",
                render([replace(o, summary="", title=_cut_words(o.title, 1)) for o in cleaned]),
            ).strip()
            raise PostTooLong(
                f"post for {', '.join(o.milestone_id for o in cleaned)} cannot fit "
                f"{self.limit.max_length} even shortened "
                f"(shortest form measures {self.limit.measure(shortest)})"
            )
        return text
