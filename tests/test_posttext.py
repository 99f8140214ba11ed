"""Post texts: wording, ordinals, X's weighted length and the shortening rule."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twitter_text import extract_urls, parse_tweet

from chronicle.posting.posttext import (
    DEFAULT_TEMPLATES,
    MIN_SUMMARY_WORDS,
    Occasion,
    PostComposer,
    PostTemplates,
    PostTooLong,
    is_round,
    weighted_length,
)
from chronicle.publishers import TextLimit
from chronicle.publishers.xtext import X_TEXT_LIMIT

TITLE = "The United States and Mongolia establish diplomatic relations"
SUMMARY = "Ambassadors exchange notes at the United Nations."
URL = "https://chronicle.example.org/milestones/diplomatic-relations-established"
RELATIONS = Occasion(
    milestone_id="diplomatic-relations-established",
    title=TITLE,
    summary=SUMMARY,
    anniversary_of="diplomatic relations between the United States and Mongolia",
    date_words="27 January 1987",
    full_date="January 27, 1987",
    month_day_words="January 27",
    years=40,
    year=1987,
    url=URL,
)
PEACE_CORPS = Occasion(
    milestone_id="peace-corps-arrives",
    title="The first Peace Corps volunteers arrive in Mongolia",
    summary="Twenty-one volunteers begin teaching English.",
    anniversary_of=None,
    date_words="12 April 2001",
    full_date="April 12, 2001",
    month_day_words="April 12",
    years=25,
    year=2001,
    url="https://chronicle.example.org/milestones/peace-corps-arrives",
)
REGULAR_ONLY = PostTemplates(round_every=())


def test_fortieth_regular_text_is_exact() -> None:
    text = PostComposer(REGULAR_ONLY).compose(RELATIONS)
    assert text == (
        "Today, January 27, we mark 40 years of diplomatic relations between the United States "
        f"and Mongolia. January 27, 1987: {TITLE}. {SUMMARY} {URL}"
    )


def test_fortieth_default_text_names_the_ordinal_not_the_count_twice() -> None:
    text = PostComposer().compose(RELATIONS)
    assert text == (
        "Today, January 27, we mark the 40th anniversary of diplomatic relations between the "
        f"United States and Mongolia. January 27, 1987: {TITLE}. {SUMMARY} {URL}"
    )
    assert weighted_length(text) <= 280


def test_fallback_without_anniversary_of_keeps_the_title_a_headline() -> None:
    occasion = dataclasses.replace(PEACE_CORPS, years=24)
    assert PostComposer().compose(occasion) == (
        f"24 years ago today. April 12, 2001: {occasion.title}. {occasion.summary} {occasion.url}"
    )
    assert PostComposer().compose(dataclasses.replace(PEACE_CORPS, years=1)).startswith(
        "1 year ago today. April 12, 2001: ")
    assert PostComposer().compose(PEACE_CORPS) == (
        f"Today is the 25th anniversary. April 12, 2001: {PEACE_CORPS.title}. "
        f"{PEACE_CORPS.summary} {PEACE_CORPS.url}"
    )


def test_a_milestones_own_text_is_rendered_as_written_with_the_link_appended() -> None:
    own = dataclasses.replace(
        RELATIONS, years=41, text="On {{ date }}, {{ year }}, {{ title|lower }}: {{ years }}.",
        round_text="The {{ ordinal }} anniversary of {{ full_date }}.")
    assert PostComposer().compose(own) == (
        "On January 27, 1987, the united states and mongolia establish diplomatic relations: 41. "
        + URL)
    assert PostComposer().compose(dataclasses.replace(own, years=40)) == (
        f"The 40th anniversary of January 27, 1987. {URL}")
    with pytest.raises(PostTooLong, match="its own anniversary text"):
        PostComposer().compose(dataclasses.replace(own, text="word " * 60))


@pytest.mark.parametrize("years", [5, 10, 40, 15, 100])
def test_round_years_use_round_template(years: int) -> None:
    text = PostComposer().compose(dataclasses.replace(RELATIONS, years=years))
    assert f"the {years}th anniversary of" in text
    assert f"{years} years" not in text


@pytest.mark.parametrize("years", [41, 1, 3, 22, 39])
def test_other_years_use_regular_template(years: int) -> None:
    text = PostComposer().compose(dataclasses.replace(RELATIONS, years=years))
    assert "anniversary" not in text
    assert not re.search(r"\b1 years", text)
    unit = "year" if years == 1 else "years"
    assert text.startswith(f"Today, January 27, we mark {years} {unit} of diplomatic")


def test_fewer_than_five_years_are_never_round() -> None:
    assert not any(is_round(y, (1, 2)) for y in range(5))
    assert is_round(6, (2,))
    assert not is_round(41, DEFAULT_TEMPLATES.round_every)
    with pytest.raises(ValueError):
        PostTemplates(round_every=(0,))


@pytest.mark.parametrize(
    ("years", "ordinal", "words"),
    [(1, "1st", "one"), (22, "22nd", "twenty-two"), (113, "113th", "one hundred and thirteen")],
)
def test_ordinals_and_words(years: int, ordinal: str, words: str) -> None:
    templates = PostTemplates(regular="{{ ordinal }}|{{ years_words }} {{ url }}", round_every=())
    text = PostComposer(templates).compose(dataclasses.replace(RELATIONS, years=years))
    assert text == f"{ordinal}|{words} {URL}"


def test_long_summary_is_cut_at_a_word_boundary() -> None:
    summary = " ".join(f"word{i:03d}" for i in range(80))
    text = PostComposer().compose(dataclasses.replace(RELATIONS, summary=summary))
    assert weighted_length(text) <= 280
    assert text.endswith(f"… {URL}")
    kept = text.split(f"{TITLE}. ", 1)[1].removesuffix(f"… {URL}")
    assert summary.startswith(kept + " ")  # a whole-word prefix, nothing cut mid-word
    next_word = summary.split(" ")[len(kept.split(" "))]
    assert weighted_length(text.replace(f"{kept}…", f"{kept} {next_word}…")) > 280  # longest
    assert extract_urls(text) == [URL]


def test_unbreakable_summary_is_dropped_not_cut() -> None:
    occasion = dataclasses.replace(RELATIONS, summary="x" * 300)
    text = PostComposer().compose(occasion)
    assert "x" not in text.split(TITLE)[1].removesuffix(URL)
    assert text.endswith(f"{TITLE}. {URL}")


def test_long_title_is_shortened_after_summary_is_dropped() -> None:
    title = " ".join(["Mongolia"] * 60)
    text = PostComposer().compose(dataclasses.replace(RELATIONS, title=title))
    assert weighted_length(text) <= 280
    assert SUMMARY.split(maxsplit=1)[0] not in text
    assert text.endswith(f"Mongolia…. {URL}")


def test_impossible_post_raises() -> None:
    occasion = dataclasses.replace(RELATIONS, anniversary_of="relations " * 40)
    with pytest.raises(PostTooLong, match="diplomatic-relations-established"):
        PostComposer().compose(occasion)
    with pytest.raises(ValueError):
        PostComposer(limit=TextLimit(max_length=0, measure=len))


def test_each_channel_is_measured_its_own_way() -> None:
    summary = " ".join(["ᠮᠣᠩᠭᠣᠯ"] * 30)  # weighs 2 per character on X, 1 in a file
    occasion = dataclasses.replace(RELATIONS, years=41, summary=summary)
    on_x = PostComposer().compose(occasion)
    in_file = PostComposer(limit=TextLimit(max_length=100_000, measure=len)).compose(occasion)
    assert in_file.endswith(f"{summary} {URL}")
    assert summary not in on_x and weighted_length(on_x) <= 280


def test_fitting_a_huge_summary_stays_fast() -> None:
    summary = " ".join(f"word{i}" for i in range(150_000)) + " " + "x" * 200_000
    occasion = dataclasses.replace(RELATIONS, summary=summary)
    for limit in (X_TEXT_LIMIT, TextLimit(max_length=500, measure=len)):
        # Fast by what it does, not by a timer: the fitting measures a few short candidates
        # (8 here), never one per word of the 1.7-million-character summary.
        measured: list[int] = []

        def counting(text: str, measure: Callable[[str], int] = limit.measure,
                     measured: list[int] = measured) -> int:
            measured.append(len(text))
            return measure(text)

        counted = TextLimit(max_length=limit.max_length, measure=counting)
        text = PostComposer(limit=counted).compose(occasion)
        assert limit.fits(text) and "…" in text
        assert len(measured) < 64 and max(measured) < 4_000, measured


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("Mongolia", 8),
        ("Монгол Улс", 10),  # Cyrillic counts 1
        ("ᠮᠣᠩᠭᠣᠯ", 12),  # traditional Mongolian script counts 2
        ("蒙古国", 6),
        ("モンゴル", 8),
        ("🇲🇳", 2),
        ("👨‍👩‍👧", 2),  # a ZWJ sequence is one emoji
        ("https://example.org/" + "a" * 200, 23),
    ],
)
def test_weighted_length_uses_x_weights(text: str, weight: int) -> None:
    assert weighted_length(text) == weight


def test_traditional_script_summary_is_shortened_by_weight_not_len() -> None:
    summary = " ".join(["ᠮᠣᠩᠭᠣᠯ"] * 20)  # 139 code points that weigh 259
    occasion = dataclasses.replace(RELATIONS, years=41, summary=summary, url="https://x.mn/a",
                                   title="Relations established", anniversary_of=None)
    untouched = PostComposer().compose(dataclasses.replace(occasion, summary=""))
    full = untouched.replace(" https://x.mn/a", f" {summary} https://x.mn/a")
    assert len(full) <= 280 < weighted_length(full)  # len() would have let it through
    text = PostComposer().compose(occasion)
    assert weighted_length(text) <= 280
    assert "ᠮᠣᠩᠭᠣᠯ…" in text  # cut between words
    assert text.endswith(" https://x.mn/a")


def test_cjk_and_emoji_summary() -> None:
    occasion = dataclasses.replace(RELATIONS, summary="两国建立外交关系。🇺🇸🇲🇳 " * 12,
                                   title="Relations", anniversary_of=None)
    text = PostComposer().compose(occasion)
    assert weighted_length(text) <= 280
    assert parse_tweet(text).valid
    assert "两国建立外交关系。🇺🇸🇲🇳…" in text


def test_a_summary_that_would_keep_only_a_few_words_is_dropped() -> None:
    words = ["Ambassadorial"] * 30
    occasion = dataclasses.replace(RELATIONS, summary=" ".join(words))
    with_room = PostComposer().compose(dataclasses.replace(occasion, summary=""))
    room = 280 - weighted_length(with_room)
    assert room < MIN_SUMMARY_WORDS * len("Ambassadorial ")  # fewer than 6 words would fit
    assert PostComposer().compose(occasion) == with_room


def test_text_is_nfc_and_free_of_invalid_characters() -> None:
    occasion = dataclasses.replace(
        RELATIONS, title="Cafe\u0301\ufeff diplomacy\ufffe", summary="a\n\tb\x07  c"
    )
    text = PostComposer().compose(occasion)
    assert unicodedata.is_normalized("NFC", text)
    assert "Café diplomacy." in text
    assert " a b c " in text
    assert parse_tweet(text).valid


def test_digest_lists_every_occasion_and_fits() -> None:
    occasions = [RELATIONS, PEACE_CORPS, dataclasses.replace(PEACE_CORPS, years=1, url=URL + "1")]
    text = PostComposer().compose_digest(occasions)
    assert text.startswith("Today, January 27, we mark:\n- 40 years since January 27, 1987: ")
    assert "\n- 1 year since April 12, 2001: " in text
    assert extract_urls(text) == [o.url for o in occasions]
    assert weighted_length(text) <= 280
    with pytest.raises(ValueError):
        PostComposer().compose_digest([])


def test_templates_are_strict_and_sandboxed() -> None:
    with pytest.raises(jinja2.UndefinedError):
        PostComposer(PostTemplates(regular="{{ yeras }} {{ url }}", round_every=())).compose(
            RELATIONS
        )
    evil = PostTemplates(regular="{{ url.__class__.__mro__[1].__subclasses__() }}", round_every=())
    with pytest.raises(jinja2.TemplateError):
        PostComposer(evil).compose(RELATIONS)


URLS = st.sampled_from([URL, "https://x.mn/a", "https://example.org/" + "p" * 150])


@settings(max_examples=150, deadline=None)
@given(
    title=st.text(max_size=400),
    summary=st.text(max_size=600),
    anniversary_of=st.none() | st.text(max_size=120),
    years=st.integers(min_value=1, max_value=300),
    url=URLS,
)
def test_any_text_fits_or_is_refused(
    title: str, summary: str, anniversary_of: str | None, years: int, url: str
) -> None:
    occasion = dataclasses.replace(
        RELATIONS, title=title, summary=summary, anniversary_of=anniversary_of, years=years, url=url
    )
    try:
        text = PostComposer().compose(occasion)
    except PostTooLong:
        return
    assert weighted_length(text) <= 280
    assert parse_tweet(text).valid
    assert text.endswith(" " + url)
    assert url in extract_urls(text)


WORDS = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöü", min_size=1, max_size=15))


@settings(max_examples=100, deadline=None)
@given(words=WORDS)
def test_summary_is_kept_whole_cut_after_a_word_or_dropped(words: list[str]) -> None:
    summary = " ".join(words)
    text = PostComposer(REGULAR_ONLY).compose(
        dataclasses.replace(RELATIONS, years=41, summary=summary)
    )
    assert weighted_length(text) <= 280
    kept = text.split(f"{TITLE}.", 1)[1].removesuffix(URL).strip()
    if kept.endswith("…"):
        kept_words = kept.removesuffix("…").split(" ")
        assert kept_words == words[: len(kept_words)]
    else:
        assert kept in ("", summary)
