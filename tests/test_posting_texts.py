"""Every shipped anniversary post, for its next three anniversaries on every channel, reads
like something a press office would sign, and fits."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from pathlib import Path

import pytest

from chronicle.dates import MONTH_NAMES
from chronicle.domain import Milestone
from chronicle.loader import check_sources
from chronicle.posting.anniversaries import PlannedPost, Planner, full_date_words
from chronicle.posting.posttext import Occasion, PostComposer
from chronicle.projections import Projector, ReadModels
from chronicle.publishers import OutboxPublisher, TextLimit
from chronicle.publishers.xtext import X_TEXT_LIMIT
from chronicle.store import open_store
from tests.test_posting_support import record_all, settings_for

REPO = Path(__file__).resolve().parents[1]
LIMITS = {
    "outbox": OutboxPublisher(Path("/nonexistent/outbox.jsonl")).text_limit(),
    "x": X_TEXT_LIMIT,
    "graphemes-300": TextLimit(max_length=300, measure=len),  # a strict channel, URL in full
}
DATES = re.compile(rf"(?:{'|'.join(MONTH_NAMES)}) \d+(?:–\d+)?(?: – (?:{'|'.join(MONTH_NAMES)}) "
                   r"\d+)?(?:, \d{4})?")


def shipped() -> list[Milestone]:
    checked = check_sources(settings_for(REPO, "sqlite://"), [REPO / "events"])
    assert checked.problems == []
    return [m.milestone for m in checked.milestones]


def problems_of(text: str, milestone: Milestone, years: int) -> list[str]:
    """The house rules of issue 17, as checks on one rendered text."""
    found = []
    body = text.replace(milestone.summary, " ") if milestone.summary else text
    body = re.sub(r"https?://\S+", " ", body)
    if re.search(r"\b1 years\b", text):
        found.append("says '1 years'")
    if re.search(r", (The|A|An|This|It|On|In) ", body):
        found.append("capitalises after a comma")
    for piece in (milestone.title, milestone.summary):
        if piece and f", {piece}" in text:
            found.append("puts a capitalised title or summary after a comma")
    at = text.find(milestone.title)
    if at > 0 and text[at - 2:at] != ": ":
        found.append("puts the present-tense title inside a sentence")
    counts = re.findall(rf"\b{years}(?:st|nd|rd|th)?\b", DATES.sub(" ", body))
    if len(counts) != 1:
        found.append(f"names the count {len(counts)} times")
    return found


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Milestone, PlannedPost]]:
    tmp = tmp_path_factory.mktemp("texts")
    url = f"sqlite:///{tmp / 'texts.db'}"
    store = open_store(url)
    try:
        milestones = [m for m in shipped() if m.posts_yearly]
        record_all(store, milestones)
        projector = Projector(store)
        projector.prepare()
        projector.catch_up()
        planner = Planner(settings_for(tmp, url), ReadModels(store.engine), LIMITS)
        found = []
        for milestone in milestones:
            month, day = milestone.date.month_day() or (0, 0)
            for year in (2027, 2028, 2029):
                if (month, day) == (2, 29) and not calendar.isleap(year):
                    day = 28
                posts = planner.plan(dt.date(year, month, day), list(LIMITS))
                found += [(milestone, p) for p in posts if p.milestone_ids == (milestone.id,)]
        return found
    finally:
        store.close()


def test_every_day_precision_milestone_posts_or_opted_out_for_a_reason() -> None:
    days = [m for m in shipped() if m.date.precision.value == "day"]
    posting = [m for m in days if m.posts_yearly]
    assert len(days) == 16 and len(posting) == 11
    assert {m.id for m in days if not m.anniversary_posts} == {
        "ambassador-message-39-years", "rubio-batmunkh-meeting-2025-05-30",
        "landau-batmunkh-meeting-2025-09-25", "ambassador-buangan-appointed-2022-11-17",
        "ambassador-batbayar-credentials-2021-12-01"}
    assert all(m.anniversary is not None for m in posting)  # each one written by an editor


def test_every_shipped_post_fits_and_reads_well_for_three_years_on_every_channel(
        plans: list[tuple[Milestone, PlannedPost]]) -> None:
    assert len(plans) == 11 * 3 * len(LIMITS)
    bad = []
    for milestone, post in plans:
        limit = LIMITS[post.channel]
        if post.text is None or not limit.fits(post.text):
            bad.append(f"{post.key}: {post.problem or 'over the limit'}")
            continue
        bad += [f"{post.key}: {p}: {post.text}" for p in problems_of(post.text, milestone,
                                                                    post.years[0])]
        assert post.text.endswith(f"/milestones/{milestone.id}")
    assert bad == []


def test_the_fortieth_reads_like_a_statement_an_embassy_would_sign(
        plans: list[tuple[Milestone, PlannedPost]]) -> None:
    texts = {p.text for m, p in plans if p.key.startswith("diplomatic-relations-established/2027")}
    (text,) = texts  # the same words on every channel
    assert text == (
        "Today, January 27, the United States and Mongolia celebrate 40 years of diplomatic "
        "relations, established on this day in 1987. Our partnership rests on shared democratic "
        "values and the friendship of our peoples. "
        "https://chronicle.example.org/milestones/diplomatic-relations-established")
    later = {p.text for m, p in plans if p.key.startswith("diplomatic-relations-established/2028")}
    assert later == {"Today, January 27, the United States and Mongolia mark 41 years of "
                     "diplomatic relations, established on this day in 1987. "
                     "https://chronicle.example.org/milestones/diplomatic-relations-established"}


def test_the_rules_catch_what_the_old_templates_did() -> None:
    ambassador = next(m for m in shipped() if m.id == "ambassador-message-39-years")
    old = ("Today, January 27, marks 1 years since Ambassador Richard Buangan marks 39 years of "
           "US–Mongolia diplomatic relations (27 January 2026). https://x.mn/a")
    found = problems_of(old, ambassador, 1)
    assert "says '1 years'" in found
    assert "puts the present-tense title inside a sentence" in found
    kalgan = next(m for m in shipped() if m.id == "us-consulate-kalgan-opens-1921-04-01")
    old = (f"Today, April 1, we mark 15 years of X, the 15th anniversary: on 1 April 1921, "
           f"{kalgan.title}. https://x.mn/a")
    found = problems_of(old, kalgan, 15)
    assert "capitalises after a comma" in found and "names the count 2 times" in found


@pytest.mark.parametrize("years", [1, 2, 15, 40, 41])
def test_the_generic_templates_follow_the_rules_for_every_shipped_milestone(years: int) -> None:
    for milestone in [m for m in shipped() if m.date.precision.value == "day"]:
        start = milestone.date.start
        occasion = Occasion(
            milestone_id=milestone.id, title=milestone.title, summary=milestone.summary,
            anniversary_of=milestone.anniversary_of, date_words=milestone.date.words(),
            full_date=full_date_words(milestone.date),
            month_day_words=f"{MONTH_NAMES[(start.month or 1) - 1]} {start.day}",
            years=years, year=start.year, url=f"https://chronicle.example.org/m/{milestone.id}")
        for limit in LIMITS.values():
            text = PostComposer(limit=limit).compose(occasion)
            assert limit.fits(text)
            assert problems_of(text, milestone, years) == [], text
