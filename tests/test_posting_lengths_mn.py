"""Mongolian posts measured the way each channel measures them: every shipped Mongolian
anniversary text for its next three years, and the Mongolian generic templates for every
shipped translation, fit X, Mastodon, Bluesky and the outbox; a long Cyrillic summary is cut
between words; the cards are drawn in Mongolian."""

from __future__ import annotations

import calendar
import datetime as dt
import unicodedata
from pathlib import Path

import pytest

from chronicle.cards import CardFontMissing, anniversary_image, check_fonts
from chronicle.datewords import date_words, month_day_words
from chronicle.domain import Milestone
from chronicle.posting.anniversaries import PlannedPost, Planner
from chronicle.posting.posttext import MN_TEMPLATES, Occasion, PostComposer
from chronicle.posting.rehearsal import card_fonts_check
from chronicle.projections import Projector, ReadModels
from chronicle.publishers import OutboxPublisher, TextLimit
from chronicle.publishers._text import graphemes, mastodon_length
from chronicle.publishers.bluesky import MAX_GRAPHEMES
from chronicle.publishers.xtext import X_TEXT_LIMIT, weighted_length
from chronicle.store import open_store
from tests.test_posting_support import record_all, settings_for
from tests.test_posting_texts import shipped

LIMITS = {
    "outbox": OutboxPublisher(Path("/nonexistent/outbox.jsonl")).text_limit(),
    "x": X_TEXT_LIMIT,
    "mastodon": TextLimit(max_length=500, measure=mastodon_length),
    "bluesky": TextLimit(max_length=MAX_GRAPHEMES, measure=graphemes),
}


def test_cyrillic_is_counted_once_per_letter_on_every_channel() -> None:
    word = "Өнөөдөр"  # seven letters, each one code point (NFC)
    assert weighted_length(word) == 7  # X weighs Cyrillic 1 (CJK would weigh 2)
    assert mastodon_length(word) == graphemes(word) == len(word) == 7
    decomposed = unicodedata.normalize("NFD", "Үү й")  # base letters with combining marks
    assert graphemes(decomposed) == 4 and len(decomposed) > 4


@pytest.fixture(scope="module")
def mn_plans(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Milestone, PlannedPost]]:
    tmp = tmp_path_factory.mktemp("mn-texts")
    url = f"sqlite:///{tmp / 'texts.db'}"
    store = open_store(url)
    try:
        milestones = [m for m in shipped() if m.posts_yearly]
        record_all(store, milestones)
        projector = Projector(store)
        projector.prepare()
        projector.catch_up()
        planner = Planner(settings_for(tmp, url, languages=["en", "mn"]),
                          ReadModels(store.engine), LIMITS)
        found = []
        for milestone in milestones:
            month, day = milestone.date.month_day() or (0, 0)
            for year in (2027, 2028, 2029):
                if (month, day) == (2, 29) and not calendar.isleap(year):
                    day = 28
                plan = planner.plan_day(dt.date(year, month, day), list(LIMITS), ["mn"])
                assert [u.line() for u in plan.unposted] == []
                found += [(milestone, p) for p in plan.posts
                          if p.milestone_ids == (milestone.id,)]
        return found
    finally:
        store.close()


def test_every_shipped_mongolian_post_fits_every_channel_for_three_years(
        mn_plans: list[tuple[Milestone, PlannedPost]]) -> None:
    assert len(mn_plans) == 11 * 3 * len(LIMITS)
    bad = []
    for milestone, post in mn_plans:
        limit = LIMITS[post.channel]
        assert post.language == "mn" and post.key.endswith("/mn") and post.reviewed is False
        if post.text is None or not limit.fits(post.text):
            bad.append(f"{post.key}: {post.problem or limit.measure(post.text or '')}")
            continue
        assert post.text.endswith(f"/mn/milestones/{milestone.id}")
        own = milestone.translation("mn")
        assert own is not None and own.anniversary is not None
        assert "{{" not in post.text and "жил" in post.text, post.text
    assert bad == []


@pytest.mark.parametrize("years", [1, 2, 15, 40, 41])
def test_the_mongolian_generic_templates_fit_every_shipped_translation(years: int) -> None:
    checked = 0
    for milestone in shipped():
        translation = milestone.translation("mn")
        if translation is None or milestone.date.month_day() is None:
            continue
        month, day = milestone.date.month_day() or (1, 1)
        words = date_words(milestone.date, "mn")
        occasion = Occasion(
            milestone_id=milestone.id, title=translation.title, summary=translation.summary,
            anniversary_of=None, date_words=words, full_date=words,
            month_day_words=month_day_words(month, day, "mn"), years=years,
            year=milestone.date.start.year, language="mn",
            url=f"https://chronicle.example.org/mn/milestones/{milestone.id}")
        for name, limit in LIMITS.items():
            text = PostComposer(MN_TEMPLATES, limit).compose(occasion)
            assert limit.fits(text), (name, text)
            head = (f"Өнөөдөр {years} жилийн ой тохиож байна. " if years % 5 == 0
                    else f"{years} жилийн өмнө өнөөдөр. ")
            assert text.startswith(head + " ".join(words.split()) + ": "), text
            checked += 1
    assert checked >= 16 * len(LIMITS)


def test_a_long_cyrillic_summary_is_cut_between_words_to_fit_bluesky() -> None:
    summary = " ".join(["Улаанбаатар хотод хоёр улсын төлөөлөгчид уулзав."] * 20)
    occasion = Occasion(
        milestone_id="long", title="Урт гарчигтай үйл явдал", summary=summary,
        anniversary_of=None, date_words="1987 оны нэгдүгээр сарын 27",
        full_date="1987 оны нэгдүгээр сарын 27", month_day_words="нэгдүгээр сарын 27",
        years=41, year=1987, url="https://chronicle.example.org/mn/milestones/long",
        language="mn")
    limit = LIMITS["bluesky"]
    text = PostComposer(MN_TEMPLATES, limit).compose(occasion)
    assert limit.fits(text) and graphemes(text) > MAX_GRAPHEMES - 60
    body = text.removesuffix(" " + occasion.url)
    assert body.endswith("…")
    assert summary.startswith(body.split(": ", 1)[1].split(". ", 1)[1].removesuffix("…"))


def test_the_mongolian_card_shows_the_mongolian_title_and_day() -> None:
    english = anniversary_image(title="The United States and Mongolia establish diplomatic "
                                "relations", local_date=dt.date(2027, 1, 27), years=40,
                                site_name="Chronicle")
    mongolian = anniversary_image(title="АНУ, Монгол Улс дипломат харилцаа тогтоов",
                                  local_date=dt.date(2027, 1, 27), years=40,
                                  site_name="Chronicle", language="mn")
    assert english.alt == ("Card: The United States and Mongolia establish diplomatic "
                           "relations. January 27, 40 years. Chronicle.")
    assert mongolian.alt == ("Зураг: АНУ, Монгол Улс дипломат харилцаа тогтоов. "
                             "нэгдүгээр сарын 27, 40 жил. Chronicle.")
    assert mongolian.png.startswith(b"\x89PNG") and mongolian.png != english.png


def test_the_card_fonts_are_checked_for_cyrillic() -> None:
    check_fonts()  # DejaVu Sans draws Latin and Mongolian Cyrillic (Ө, Ү)
    assert card_fonts_check().ok
    with pytest.raises(CardFontMissing, match="has no glyph for 'ᠮᠣ'"):
        check_fonts("ᠮᠣ")  # the traditional script is beyond DejaVu Sans
