"""Translations: the domain's rules, their round trip through the loader and the log, the CLI."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from chronicle.config import Settings
from chronicle.domain import (
    InvalidMilestone,
    MalformedPayload,
    Milestone,
    MilestoneRevised,
    fold,
    record,
    revise,
)
from chronicle.loader import check_files, load_sources
from chronicle.localized import localize
from chronicle.projections import Projector, ReadModels
from chronicle.store import SqlEventStore
from chronicle.translations import AnniversaryText, Translation
from tests.conftest import run_cli
from tests.test_domain import make
from tests.test_loader_validation import variant
from tests.test_posting_cli import env_for, loaded_sqlite  # noqa: F401 (a fixture)

MN = Translation(language="mn", title="АНУ, Монгол Улс дипломат харилцаа тогтоов",
                 summary="АНУ 1987 онд Монгол Улсыг хүлээн зөвшөөрчээ.",
                 translator="Chronicle team (machine-assisted draft)",
                 anniversary=AnniversaryText(text="Өнөөдөр, {{ date }}, {{ years }} жилийн ой.",
                                             round="{{ ordinal }} ой: {{ title }}"))
NO_CONFIG = {"CHRONICLE_CONFIG": ""}


# -- the domain -------------------------------------------------------------------------


def test_a_translation_round_trips_through_the_payload() -> None:
    milestone = make(translations=(MN,))
    payload = milestone.to_payload()
    assert payload["translations"] == {"mn": {
        "title": MN.title, "summary": MN.summary, "notes": None,
        "anniversary": {"text": MN.anniversary.text, "round": MN.anniversary.round},  # type: ignore[union-attr]
        "translator": MN.translator, "reviewed": False}}
    assert Milestone.from_payload(json.loads(json.dumps(payload))) == milestone
    assert milestone.translation("mn") == MN and milestone.translation("de") is None


def test_without_translations_the_payload_keeps_its_old_shape() -> None:
    """No key at all: payloads recorded before translations existed need no upcaster."""
    assert "translations" not in make().to_payload()
    assert Milestone.from_payload(make().to_payload()).translations == ()


def test_a_changed_translation_is_a_revision_of_that_field_only() -> None:
    state = fold(record(fold([]), make(translations=(MN,))))
    reviewed = dataclasses.replace(MN, title="АНУ, Монгол Улс харилцаа тогтоов", reviewed=True)
    (event,) = revise(state, make(translations=(reviewed,)), "Reviewed by a second reader")
    assert isinstance(event, MilestoneRevised)
    assert list(event.changes) == ["translations"]
    assert event.changes["translations"]["mn"]["reviewed"] is True
    after = fold([event], state)
    assert after.milestone is not None and after.milestone.translation("mn") == reviewed
    (removed,) = revise(after, make(), "Withdrawn for retranslation")
    assert isinstance(removed, MilestoneRevised) and removed.changes == {"translations": {}}
    assert fold([removed], after).milestone == make()


@pytest.mark.parametrize(("translation", "field", "message"), [
    (dataclasses.replace(MN, title="Гарчиг\x07"), "translations.mn.title", "control character"),
    (dataclasses.replace(MN, title="Г" * 201), "translations.mn.title", "at most 200"),
    (dataclasses.replace(MN, summary="мөр\x00"), "translations.mn.summary", "control character"),
    (dataclasses.replace(MN, translator=" "), "translations.mn.translator", "must not be blank"),
    (dataclasses.replace(MN, language="en"), "translations.en", "English is the milestone's"),
    (dataclasses.replace(MN, language="xx"), "translations.xx", "no locale data"),
    (dataclasses.replace(MN, anniversary=AnniversaryText(text="{{ yeras }} жил")),
     "translations.mn.anniversary.text", "unknown variable(s) yeras"),
    (dataclasses.replace(MN, anniversary=AnniversaryText(text="{{ years }} жил {% if %}")),
     "translations.mn.anniversary.text", "not a valid template"),
    (dataclasses.replace(MN, anniversary=AnniversaryText(text="х", round="https://x.mn")),
     "translations.mn.anniversary.round", "must not contain a link"),
])
def test_the_domain_refuses_a_bad_translation(translation: Translation, field: str,
                                              message: str) -> None:
    with pytest.raises(InvalidMilestone) as caught:
        record(fold([]), make(translations=(translation,)))
    assert [p.field for p in caught.value.problems] == [field]
    assert message in caught.value.problems[0].message


def test_a_malformed_stored_translation_is_a_malformed_payload() -> None:
    payload = make(translations=(MN,)).to_payload()
    payload["translations"]["mn"]["voice"] = "loud"
    with pytest.raises(MalformedPayload, match="unknown field"):
        Milestone.from_payload(payload)


def test_localized_text_falls_back_to_english_field_by_field() -> None:
    english = localize(make(translations=(MN,)), "en")
    assert (english.title, english.fallbacks, english.reviewed) == (make().title, (), None)
    mongolian = localize(make(notes="English note", translations=(MN,)), "mn")
    assert mongolian.title == MN.title and mongolian.fallbacks == ("notes",)
    assert mongolian.date_words == "1987\u202fоны нэгдүгээр сарын 27"
    assert mongolian.marked("notes", "English note") == "[en] English note"
    german = localize(make(), "de")
    assert german.title == make().title and set(german.fallbacks) == {"title", "summary"}


# -- the loader and the log ------------------------------------------------------------

TRANSLATED = """\
    translations:
      mn:
        title: "Энхтайвны корпусын анхны сайн дурынхан Монголд ирэв"
        summary: "Энхтайвны корпусын анхны сайн дурынхан 1991 оны наймдугаар сард Монголд иржээ."
        translator: "Chronicle team (machine-assisted draft)"
        reviewed: false
"""


def _write(folder: Path, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "first.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(base_dir=tmp_path, sources=["events/*.yaml"], database_url=db_url)


def _read_models(store: SqlEventStore) -> ReadModels:
    projector = Projector(store)
    projector.prepare()
    projector.catch_up()
    return ReadModels(store.engine)


def test_a_translation_is_recorded_revised_and_shown(store: SqlEventStore, settings: Settings,
                                                     tmp_path: Path) -> None:
    path = _write(tmp_path / "events", variant("first") + TRANSLATED)
    load_sources(store, settings)
    (recorded,) = store.iter_all()
    assert recorded.payload["translations"]["mn"]["title"].startswith("Энхтайвны")
    view = _read_models(store).milestone("first")
    assert view is not None and view.milestone.translation("mn") is not None

    head = store.head()
    text = path.read_text(encoding="utf-8").replace("reviewed: false", "reviewed: true")
    path.write_text(text + '    reason: "Mongolian reviewed by a second reader"\n',
                    encoding="utf-8")
    report = load_sources(store, settings)
    (revised,) = store.iter_all(after=head)
    assert revised.type == "MilestoneRevised"
    assert list(revised.payload["changes"]) == ["translations"]
    assert revised.payload["reason"] == "Mongolian reviewed by a second reader"
    assert list(report.changes[0].diff) == ["translations"]
    view = _read_models(store).milestone("first")
    assert view is not None and view.revisions == 1
    translation = view.milestone.translation("mn")
    assert translation is not None and translation.reviewed is True

    projector = Projector(store)
    projector.rebuild()
    rebuilt = ReadModels(store.engine).milestone("first")
    assert rebuilt is not None and rebuilt.milestone == view.milestone

    shown = run_cli("--database-url", settings.database_url, "show", "first", "--json",
                    "--lang", "mn", cwd=tmp_path, env=NO_CONFIG)
    assert shown.code == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["title"] == translation.title and data["reviewed"] is True
    assert data["date_words"] == "1991\u202fоны наймдугаар сар"
    assert data["translations"]["mn"]["reviewed"] is True
    assert [h["type"] for h in data["history"]] == ["MilestoneRecorded", "MilestoneRevised"]


def test_milestones_lang_marks_english_fallbacks(store: SqlEventStore, settings: Settings,
                                                 tmp_path: Path) -> None:
    folder = tmp_path / "events"
    _write(folder, variant("first") + TRANSLATED)
    (folder / "second.yaml").write_text(variant("second"), encoding="utf-8")
    load_sources(store, settings)
    listed = run_cli("--database-url", settings.database_url, "milestones", "--lang", "mn",
                     cwd=tmp_path, env=NO_CONFIG)
    assert listed.code == 0, listed.stderr
    first, second = (next(line for line in listed.stdout.splitlines() if name in line)
                     for name in (" first ", " second "))
    assert "Энхтайвны корпусын анхны сайн дурынхан Монголд ирэв" in first
    assert "[en] The first Peace Corps volunteers arrive in Mongolia" in second
    assert "1991\u202fоны наймдугаар сар" in second   # dates are always in the language
    shown = run_cli("--database-url", settings.database_url, "show", "first", "--lang", "mn",
                    cwd=tmp_path, env=NO_CONFIG)
    assert "translation not yet reviewed; translator: Chronicle team" in shown.stdout


def test_an_unknown_language_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_cli("--database-url", f"sqlite:///{tmp_path}/x.db", "milestones", "--lang",
                     "klingon", cwd=tmp_path, env=NO_CONFIG)
    assert result.code == 2
    assert result.stderr.strip().splitlines() == [
        "--lang: 'klingon' is not a language code Babel knows (e.g. en, mn)"]


# -- file:line problems ----------------------------------------------------------------

BAD = """\
    translations:
      mn:
        title: "Гарчиг."
        summary: " "
        translator: "T"
        reviewed: "no"
        voice: "loud"
      de:
        title: "Titel"
        reviewed: true
      Mn: "a"
"""


def test_every_translation_problem_is_reported_at_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, variant("first") + BAD)
    problems = [(p.line, p.field, p.message) for p in check_files([path])]
    base = len(variant("first").splitlines())
    assert [(line - base, field) for line, field, _ in problems] == [
        (3, "translations.mn.title"), (4, "translations.mn.summary"),
        (6, "translations.mn.reviewed"), (7, "translations.mn.voice"),
        (9, "translations.de.translator"), (11, "translations.Mn")]
    messages = [message for _, _, message in problems]
    assert messages[0] == "must not end with a period"
    assert messages[2] == 'must be true or false, unquoted, not "no"'
    assert messages[4] == "is required but missing"


def test_an_anniversary_needs_a_date_that_starts_on_a_day(tmp_path: Path) -> None:
    anniversary = TRANSLATED.replace('        translator:', '        anniversary:\n'
                                     '          text: "{{ years }} жил"\n        translator:')
    path = _write(tmp_path, variant("first") + anniversary)
    (problem,) = check_files([path])
    assert problem.field == "translations.mn.anniversary"
    assert "starts on a day" in problem.message
    on_a_day = variant("first", ('"1991-08"', '"1991-08-01/1991-08-03"')) + anniversary
    assert check_files([_write(tmp_path, on_a_day)]) == []


@pytest.mark.usefixtures("loaded_sqlite")
def test_upcoming_lists_the_fortieth_s_title_in_mongolian(tmp_path: Path) -> None:
    env = env_for(tmp_path / "chronicle.toml", CHRONICLE_FAKE_NOW="2026-11-23T12:00:00+08:00")
    result = run_cli("upcoming", "--days", "400", "--json", "--lang", "mn", env=env)
    assert result.code == 0, result.stderr
    rows = json.loads(result.stdout)
    (fortieth,) = [r for r in rows if r["milestone_ids"] == ["diplomatic-relations-established"]]
    assert fortieth["titles"] == ["АНУ, Монгол Улс дипломат харилцаа тогтоов"]
    assert all(title and not title.startswith("[en]") for r in rows for title in r["titles"])
    english = run_cli("upcoming", "--days", "400", "--json", env=env)
    assert "titles" not in json.loads(english.stdout)[0]
