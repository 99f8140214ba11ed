"""A date kept as its source gives it but known to be wrong never shows without its caveat."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

import pytest

from chronicle.config import Settings
from chronicle.dates import HistoricalDate
from chronicle.domain import Milestone, Source, milestone_from_log
from chronicle.feeds import feed_documents
from chronicle.loader import check_files, json_schema, load_sources
from chronicle.pages.builder import documents
from chronicle.pages.ical import anniversary_event
from chronicle.posting.anniversaries import Anniversary, occasion
from chronicle.posting.posttext import PostComposer
from chronicle.projections import MilestoneView, Projector, ReadModels
from chronicle.store import SqlEventStore
from tests.conftest import REPO
from tests.test_loader_validation import variant

CAVEAT = "source error: the same source says it became multinational in 2006"
KHAAN = "khaan-quest-bilateral-start"


def caveated(date: str = "2023-05-20", caveat: str | None = CAVEAT) -> Milestone:
    return Milestone(id="exercise-start", title="An exercise begins",
                     date=HistoricalDate.parse(date), date_caveat=caveat,
                     summary="It began.", tags=("exercises",),
                     sources=(Source(title="Encyclopedia", file="000_389149d6423ab54b.txt",
                                     quote="initially started in May 2023"),))


def view(milestone: Milestone) -> MilestoneView:
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return MilestoneView(milestone=milestone, recorded_at=moment, updated_at=moment,
                         recorded_position=1, updated_position=1, revisions=0)


def test_the_date_in_words_carries_the_caveat_and_only_when_there_is_one() -> None:
    assert caveated("2023-05").date_words() == f"May 2023 ({CAVEAT})"
    assert caveated("2023-05").with_caveat("2023") == f"2023 ({CAVEAT})"
    assert caveated("2023-05", None).date_words() == "May 2023"


@pytest.mark.parametrize(("caveat", "message"), [
    ("  ", "must not be blank"),
    ("source error:\nsecond line", "must be a single line"),
])
def test_a_caveat_is_one_line_of_text(caveat: str, message: str) -> None:
    [problem] = caveated(caveat=caveat).validate()
    assert problem.field == "date_caveat" and problem.message.startswith(message)


def test_the_caveat_is_in_the_payload_and_older_payloads_read_without_it() -> None:
    milestone = caveated()
    payload = milestone.to_payload()
    assert payload["date_caveat"] == CAVEAT
    assert Milestone.from_payload(json.loads(json.dumps(payload))) == milestone
    older = {k: v for k, v in payload.items() if k != "date_caveat"}
    assert Milestone.from_payload(older).date_caveat is None
    assert milestone_from_log(older).date_caveat is None


def test_the_loader_reads_the_caveat_and_refuses_it_unquoted_or_blank(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(
        variant("good", ('    date: "1991-08"\n', f'    date: "1991-08"\n    date_caveat: '
                                                   f'"{CAVEAT}"\n')), "utf-8")
    assert check_files([tmp_path / "good.yaml"], base_dir=tmp_path) == []
    (tmp_path / "bad.yaml").write_text(
        variant("bad", ('    date: "1991-08"\n', '    date: "1991-08"\n    date_caveat: yes\n'
                                                  '    circa: true\n')), "utf-8")
    assert [str(p) for p in check_files([tmp_path / "bad.yaml"], base_dir=tmp_path)] == [
        "bad.yaml:5: date_caveat: unquoted yes is read as a boolean by YAML readers; if you "
        "mean the text, quote it: \"yes\""]
    schema = json_schema()["$defs"]["MilestoneEntry"]["properties"]["date_caveat"]
    assert schema["type"] == "string" and "source error" in schema["description"]


def test_posts_and_calendar_events_show_the_caveat_with_the_date() -> None:
    milestone = caveated("2023-05-20")
    text = PostComposer().compose(occasion(Anniversary(view=view(milestone), years=3),
                                           dt.date(2026, 5, 20), "https://example.org"))
    assert f"May 20, 2023 ({CAVEAT})" in text
    event = anniversary_event(view(milestone), Settings())
    assert str(event["summary"]) == f"An exercise begins (2023 ({CAVEAT}))"
    assert str(event["description"]).startswith(f"20 May 2023 ({CAVEAT}): It began.")


def _visible_text(body: bytes) -> str:
    """A document's text as a reader sees it: tags dropped, entities (twice, for feeds) decoded."""
    text = body.decode("utf-8")
    for _ in range(2):
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return " ".join(text.split())


def test_no_page_or_feed_of_the_data_set_shows_the_source_error_date_alone(
        store: SqlEventStore) -> None:
    settings = Settings(base_dir=REPO, feed={"base_url": "https://chronicle.example.org"})
    load_sources(store, settings)
    projector = Projector(store)
    projector.prepare()
    projector.catch_up()
    models = ReadModels(store.engine)
    khaan = next(v.milestone for v in models.milestones() if v.id == KHAAN)
    assert khaan.date_caveat is not None and khaan.date_caveat.startswith("source error:")
    shown = f"May 2023 ({khaan.date_caveat})"
    rendered = [*feed_documents(settings.feed, models),
                *documents(settings, models, today=lambda _s: dt.date(2026, 1, 20))]
    # The milestones' own words may say "May 2023" (a title, a quote, a note): only the
    # date as rendered must never stand without its caveat.
    own_words = sorted({" ".join(t.split()) for v in models.milestones() for t in (
        v.milestone.title, v.milestone.summary, v.milestone.notes or "",
        *(s.quote for s in v.milestone.sources)) if "May 2023" in t}, key=len, reverse=True)
    seen = 0
    for document in rendered:
        if not document.media_type.startswith(("text/", "application/")):
            continue  # card images: their words are checked where they are drawn from
        text = _visible_text(document.body)
        for words in own_words:
            text = text.replace(words, "")
        for found in re.finditer("May 2023", text):
            assert text.startswith(shown, found.start()), (document.path, text[found.start():][:90])
            seen += 1
    assert seen >= 3  # its page, the timeline and the feeds at least
