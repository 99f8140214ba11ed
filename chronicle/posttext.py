"""Anniversary post texts that X will accept.

Texts come from Jinja2 templates rendered in a sandbox (templates are configuration, not code)
with ``StrictUndefined`` so a misspelt variable fails loudly instead of posting a gap.

Length is X's *weighted* length as computed by ``twitter-text`` (the library X's own clients
use): a URL counts 23, CJK characters, emoji and most non-Latin scripts above U+10FF (e.g. the
traditional Mongolian script) count 2, Latin, Cyrillic and most punctuation count 1.

Shortening rule, applied only when the full text is over ``max_weight``; every step is measured
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
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from jinja2 import StrictUndefined, Template
from jinja2.sandbox import ImmutableSandboxedEnvironment
from num2words import num2words
from twitter_text import parse_tweet
from twitter_text.regexp.invalid_chars import invalid_chars

__all__ = [
    "DEFAULT_TEMPLATES",
    "X_MAX_WEIGHT",
    "Occasion",
    "PostComposer",
    "PostTemplates",
    "PostTooLong",
    "is_round",
    "weighted_length",
]

X_MAX_WEIGHT = 280
ELLIPSIS = "…"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, kw_only=True, slots=True)
class Occasion:
    """One milestone's anniversary on one day."""

    milestone_id: str
    title: str
    summary: str
    anniversary_of: str | None
    date_words: str
    month_day_words: str
    years: int
    url: str


_REGULAR = (
    "Today, {{ month_day_words }}, "
    "{% set unit = 'year' if years == 1 else 'years' %}"
    "{% if anniversary_of %}we mark {{ years }} {{ unit }} of {{ anniversary_of }}: "
    "on {{ date_words }}, {{ title }}."
    "{% else %}marks {{ years }} {{ unit }} since {{ title }} ({{ date_words }})."
    "{% endif %}"
    "{% if summary %} {{ summary }}{% endif %} {{ url }}"
)
_ROUND = (
    "Today, {{ month_day_words }}, "
    "{% if anniversary_of %}we mark {{ years }} years of {{ anniversary_of }}, "
    "the {{ ordinal }} anniversary of {{ date_words }}: {{ title }}."
    "{% else %}marks {{ years }} years since {{ title }} ({{ date_words }}), "
    "the {{ ordinal }} anniversary."
    "{% endif %}"
    "{% if summary %} {{ summary }}{% endif %} {{ url }}"
)
_DIGEST = (
    "Today, {{ month_day_words }}, we mark:"
    "{% for o in occasions %}\n- {{ o.years }} {{ 'year' if o.years == 1 else 'years' }} "
    "since {{ o.title }} ({{ o.date_words }})."
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


MIN_SUMMARY_WORDS = 6
"""A summary cut shorter than this is dropped instead."""


class PostTooLong(ValueError):
    """Even the shortest allowed form of the post is over X's weighted limit."""


def weighted_length(text: str) -> int:
    """X's weighted length of ``text`` (URLs 23, CJK/emoji 2)."""
    length: int = parse_tweet(text).weightedLength
    return length


def is_round(years: int, round_every: Sequence[int]) -> bool:
    """Whether ``years`` deserves the round-anniversary wording (never below 5 years)."""
    return years >= 5 and any(years % n == 0 for n in round_every)


def _clean(text: str) -> str:
    """NFC, no characters X rejects, no control characters, single spaces."""
    text = unicodedata.normalize("NFC", text)
    text = invalid_chars.sub("", text)
    text = " ".join(text.split())  # before stripping controls: tabs/newlines are whitespace
    return _CONTROL.sub("", text)


def _clean_occasion(occasion: Occasion) -> Occasion:
    return replace(
        occasion,
        title=_clean(occasion.title),
        summary=_clean(occasion.summary),
        anniversary_of=_clean(occasion.anniversary_of) if occasion.anniversary_of else None,
        date_words=_clean(occasion.date_words),
        month_day_words=_clean(occasion.month_day_words),
        url=_clean(occasion.url),
    )


def _context(occasion: Occasion) -> dict[str, Any]:
    # num2words, not inflect: same words, but inflect's import costs ~3 s of CPU per process.
    return {
        "milestone_id": occasion.milestone_id,
        "years": occasion.years,
        "ordinal": num2words(occasion.years, to="ordinal_num"),
        "years_words": num2words(occasion.years),
        "title": occasion.title,
        "summary": occasion.summary,
        "anniversary_of": occasion.anniversary_of,
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
    """Renders occasions into post texts that fit X's weighted limit."""

    def __init__(
        self, templates: PostTemplates = DEFAULT_TEMPLATES, max_weight: int = X_MAX_WEIGHT
    ) -> None:
        if not 0 < max_weight <= X_MAX_WEIGHT:
            raise ValueError(f"max_weight must be within 1..{X_MAX_WEIGHT}, got {max_weight}")
        env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
        self.templates = templates
        self.max_weight = max_weight
        self._regular: Template = env.from_string(templates.regular)
        self._round: Template = env.from_string(templates.round)
        self._digest: Template = env.from_string(templates.digest)

    def compose(self, occasion: Occasion) -> str:
        """One occasion's post, shortened by the module's rule if needed."""
        rounded = is_round(occasion.years, self.templates.round_every)
        template = self._round if rounded else self._regular
        return self._fit([occasion], lambda occs: template.render(_context(occs[0])))

    def compose_digest(self, occasions: Sequence[Occasion]) -> str:
        """Several occasions of one day in one post (same shortening rule, applied to all)."""
        if not occasions:
            raise ValueError("a digest needs at least one occasion")
        return self._fit(list(occasions), self._render_digest)

    def _render_digest(self, occasions: Sequence[Occasion]) -> str:
        return self._digest.render(
            occasions=[_context(o) for o in occasions],
            month_day_words=occasions[0].month_day_words,
            count=len(occasions),
        )

    def _accept(self, text: str) -> str | None:
        text = unicodedata.normalize("NFC", text).strip()
        parsed = parse_tweet(text)
        return text if parsed.valid and parsed.weightedLength <= self.max_weight else None

    def _fit(
        self, occasions: Sequence[Occasion], render: Callable[[Sequence[Occasion]], str]
    ) -> str:
        cleaned = [_clean_occasion(o) for o in occasions]

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
                f"{self.max_weight} weighted characters even shortened "
                f"(shortest form weighs {weighted_length(shortest)})"
            )
        return text
