"""Card images: one PNG per anniversary post and per milestone page (Open Graph preview).

A card shows the date in words, the count ("40 years") when there is one, the milestone's
title and the chronicle's name, in DejaVu Sans (Latin, Cyrillic and Greek; Debian package
``fonts-dejavu-core``, free licence). The same input gives the same bytes: no timestamps or
metadata are written, and the layout depends only on the text and the font files. 1200×630
is the size every preview (Open Graph, X cards, Bluesky, Mastodon) shows uncropped; a card
is a few tens of kilobytes, far under Bluesky's 1,000,000-byte image limit.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from chronicle.dates import MONTH_NAMES
from chronicle.domain import Milestone
from chronicle.publishers.base import PostImage

__all__ = [
    "CARD_SIZE",
    "FONT_DIRS_ENV",
    "CardFontMissing",
    "anniversary_image",
    "card_alt",
    "card_png",
    "check_fonts",
    "count_label",
    "milestone_card",
]

CARD_SIZE = (1200, 630)
MARGIN = 72
FONT_DIRS_ENV = "CHRONICLE_CARD_FONT_DIRS"  # extra folders to look in, os.pathsep-separated
FONT_FILES = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}
FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",  # Debian, Ubuntu: fonts-dejavu-core
    "/usr/share/fonts/dejavu",  # Fedora, Arch
    "/usr/local/share/fonts/dejavu",
    "/opt/homebrew/share/fonts/dejavu",
)
BACKGROUND = (18, 44, 84)  # deep blue
ACCENT = (196, 30, 58)  # the red of both flags
INK = (255, 255, 255)
MUTED = (190, 204, 226)
TITLE_SIZES = (64, 56, 48, 42, 36)
MAX_TITLE_LINES = 4


class CardFontMissing(RuntimeError):
    """The card fonts are not installed; the message says which package to install."""


def _font_dirs() -> list[Path]:
    extra = [Path(p) for p in os.environ.get(FONT_DIRS_ENV, "").split(os.pathsep) if p]
    return [*extra, *(Path(d) for d in FONT_DIRS)]


@lru_cache(maxsize=4)
def _font_path(style: str) -> Path:
    name = FONT_FILES[style]
    for folder in _font_dirs():
        if (folder / name).is_file():
            return folder / name
    looked = ", ".join(str(d) for d in _font_dirs())
    raise CardFontMissing(
        f"card images need the font {name}: install the Debian package fonts-dejavu-core "
        f"(or set {FONT_DIRS_ENV} to a folder holding it); looked in {looked}"
    )


@lru_cache(maxsize=32)
def _font(style: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(_font_path(style)), size)


SCRIPT_SAMPLE = "Aa Жж Өө Үү"
"""Letters every card font must draw: Latin, and Mongolian Cyrillic with Ө and Ү."""
_NO_GLYPH = "\ue000"  # a private-use character: drawn as the font's missing-glyph box


def check_fonts(sample: str = SCRIPT_SAMPLE) -> None:
    """Raise :class:`CardFontMissing` now rather than at the first post: a font file missing,
    or one that draws a letter of `sample` as its missing-glyph box."""
    for style in FONT_FILES:
        _font_path(style)
        font = _font(style, 32)
        missing = bytes(font.getmask(_NO_GLYPH))
        lacking = [c for c in sample if not c.isspace() and bytes(font.getmask(c)) == missing]
        if lacking:
            raise CardFontMissing(f"the card font {_font_path(style)} has no glyph for "
                                  f"{''.join(lacking)!r}: install fonts-dejavu-core")


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
          ) -> list[str]:
    """Greedy word wrap by measured width; a word longer than the line stands alone."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and draw.textlength(candidate, font=font) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _fit_title(draw: ImageDraw.ImageDraw, title: str, width: int
               ) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest title size whose wrap takes at most MAX_TITLE_LINES; else cut with '…'."""
    for size in TITLE_SIZES:
        font = _font("bold", size)
        lines = _wrap(draw, title, font, width)
        if len(lines) <= MAX_TITLE_LINES:
            return font, lines
    lines = lines[:MAX_TITLE_LINES]
    last = lines[-1]
    while last and draw.textlength(last + " …", font=font) > width:
        last = last.rsplit(" ", 1)[0] if " " in last else last[:-1]
    lines[-1] = last + " …"
    return font, lines


def card_png(*, title: str, date_words: str, count_label: str | None, site_name: str) -> bytes:
    """The card as PNG bytes; deterministic for the same arguments and fonts."""
    width, height = CARD_SIZE
    image = Image.new("RGB", CARD_SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    text_width = width - 2 * MARGIN
    draw.rectangle((0, 0, 16, height), fill=ACCENT)

    y = MARGIN
    head = date_words if not count_label else f"{date_words} · {count_label}"
    draw.text((MARGIN, y), head, font=_font("bold", 44), fill=MUTED)
    y += 44 + 40

    font, lines = _fit_title(draw, title, text_width)
    line_height = round(font.size * 1.2)
    for line in lines:
        draw.text((MARGIN, y), line, font=font, fill=INK)
        y += line_height

    site_font = _font("regular", 32)
    draw.line((MARGIN, height - MARGIN - 56, width - MARGIN, height - MARGIN - 56),
              fill=MUTED, width=2)
    draw.text((MARGIN, height - MARGIN - 36), site_name, font=site_font, fill=MUTED)

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


ALT_PREFIX = {"en": "Card", "mn": "Зураг"}
"""How the alt text names the picture, per language (English's for any other)."""


def card_alt(*, title: str, date_words: str, count_label: str | None, site_name: str,
             language: str = "en") -> str:
    """What the card shows, as a screen reader should read it (in the post's language)."""
    when = date_words if not count_label else f"{date_words}, {count_label}"
    return f"{ALT_PREFIX.get(language, ALT_PREFIX['en'])}: {title}. {when}. {site_name}."


def count_label(years: int, language: str = "en") -> str:
    """"1 year", "40 years"; "40 жил"."""
    if language != "en":
        from chronicle.datewords import years_words

        return years_words(years, language)
    return f"{years} year" if years == 1 else f"{years} years"


def month_day(local_date: dt.date, language: str = "en") -> str:
    """"January 27" ("нэгдүгээр сарын 27"): the anniversary's day in words, without a year."""
    if language != "en":
        from chronicle.datewords import month_day_words

        return month_day_words(local_date.month, local_date.day, language)
    return f"{MONTH_NAMES[local_date.month - 1]} {local_date.day}"


def anniversary_image(*, title: str, local_date: dt.date, years: int, site_name: str,
                      language: str = "en") -> PostImage:
    """The card of one anniversary post, with its alt text, in the post's language (DejaVu
    Sans covers Cyrillic, so a Mongolian card shows its own title and date)."""
    fields = {"title": title, "date_words": month_day(local_date, language),
              "count_label": count_label(years, language), "site_name": site_name}
    return PostImage(png=card_png(**fields), alt=card_alt(**fields, language=language))


def milestone_card(milestone: Milestone, site_name: str) -> bytes:
    """The card of a milestone page (its full date, no count): the Open Graph image."""
    return card_png(title=milestone.title, date_words=milestone.date_words(), count_label=None,
                    site_name=site_name)
