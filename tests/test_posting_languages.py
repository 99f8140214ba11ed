"""Posts per language: the 40th anniversary in English and in Mongolian, once per channel and
language across restarts, an unreviewed translation held until its exact text is approved,
and no post in a language the milestone has no translation into.

Every test runs on SQLite and PostgreSQL (the `db_url` fixture); X, Mastodon and Bluesky are
the HTTP-level fakes on loopback, the outbox is the real file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chronicle.config import Settings
from chronicle.domain import Milestone
from chronicle.posting import events as ev
from chronicle.posting import service as svc
from chronicle.posting.clock import FixedClock
from chronicle.posting.events import Worker
from chronicle.posting.rehearsal import rehearse_day
from chronicle.posting.review import ReviewDesk
from chronicle.posting.service import PostingService
from chronicle.store import SqlEventStore, open_store
from tests.fake_bluesky_api import FakePds
from tests.fake_mastodon_api import FakeMastodon
from tests.fake_x_api import FakeXApi, Secrets, XResponses
from tests.fake_x_api import load_fixtures as x_fixtures
from tests.test_posting_cli import env_for, invoke, run_cli, write_config
from tests.test_posting_support import (
    RELATIONS,
    milestone,
    outbox_records,
    post_events,
    record_all,
    service_for,
    settings_for,
)
from tests.test_posting_texts import shipped
from tests.test_posting_x import CREDENTIALS, ENVIRON

TOKEN = "languages-token"
HANDLE, PASSWORD = "chronicle.test", "languages-app-password"
SECRETS = {**ENVIRON, "CHRONICLE_MASTODON_ACCESS_TOKEN": TOKEN,
           "CHRONICLE_BLUESKY_HANDLE": HANDLE, "CHRONICLE_BLUESKY_APP_PASSWORD": PASSWORD}
CHANNELS = ["outbox", "x", "mastodon", "bluesky"]
AT_NINE = dt.datetime(2027, 1, 27, 1, 0, 5, tzinfo=dt.UTC)  # 09:00:05 in Ulaanbaatar
MN_LINK = f"https://chronicle.example.org/mn/milestones/{RELATIONS}"
MN_FORTIETH = (
    "Өнөөдөр, нэгдүгээр сарын 27, АНУ, Монгол Улс дипломат харилцаа тогтоосны 40 жилийн ойн "
    "баяр тохиож байна. Хоёр улс 1987 онд харилцаагаа тогтоосон. " + MN_LINK)
EN_FORTIETH = (
    "Today, January 27, the United States and Mongolia celebrate 40 years of diplomatic "
    "relations, established on this day in 1987. Our partnership rests on shared democratic "
    "values and the friendship of our peoples. "
    f"https://chronicle.example.org/milestones/{RELATIONS}")

Fakes = tuple[FakeXApi, FakeMastodon, FakePds]


def shipped_relations(*, reviewed: bool = False) -> Milestone:
    """The shipped milestone with its shipped Mongolian translation (reviewed: false)."""
    found = next(m for m in shipped() if m.id == RELATIONS)
    (translation,) = found.translations
    assert translation.language == "mn" and translation.reviewed is False
    return dataclasses.replace(found, translations=(
        dataclasses.replace(translation, reviewed=reviewed),))


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    with FakeXApi(Secrets(*CREDENTIALS.secrets()), XResponses(x_fixtures())) as x_api, \
            FakeMastodon(TOKEN) as mastodon, FakePds(HANDLE, PASSWORD) as pds:
        x_api.script(*[x_api.responses.created() for _ in range(2)])
        yield x_api, mastodon, pds


def settings_with(tmp_path: Path, db_url: str, fakes: Fakes, **posting: Any) -> Settings:
    x_api, mastodon, pds = fakes
    return settings_for(tmp_path, db_url, channels=CHANNELS, languages=["en", "mn"],
                        x_api_base_url=x_api.base_url, mastodon_base_url=mastodon.base_url,
                        bluesky_pds_url=pds.base_url, **posting)


def started(db_url: str, settings: Settings, now: dt.datetime) -> tuple[SqlEventStore,
                                                                         PostingService]:
    """A process starting: its own connection, its own worker."""
    store = open_store(db_url)
    return store, service_for(store, settings, FixedClock(now), environ=SECRETS,
                              worker=Worker())


def outcomes(results: list[svc.PostResult]) -> Counter[tuple[str, str, str | None]]:
    return Counter((r.post.language, r.outcome, r.detail if r.outcome == svc.HELD else None)
                   for r in results)


def test_the_fortieth_goes_out_in_english_and_in_mongolian_once_per_channel_across_restarts(
        db_url: str, tmp_path: Path, fakes: Fakes) -> None:
    x_api, mastodon, pds = fakes
    settings = settings_with(tmp_path, db_url, fakes)
    store, first = started(db_url, settings, AT_NINE)
    record_all(store, [shipped_relations()])
    # English goes out; the unreviewed Mongolian translation waits for an editor.
    assert outcomes(first.post_due()) == {("en", svc.PUBLISHED, None): 4,
                                          ("mn", svc.HELD, ev.NOT_REVIEWED): 4}
    assert [s.form["language"] for s in mastodon.statuses] == [["en"]]
    store.close()

    store, second = started(db_url, settings, AT_NINE + dt.timedelta(minutes=20))
    assert outcomes(second.post_due()) == {("en", svc.ALREADY_PUBLISHED, None): 4,
                                           ("mn", svc.HELD, ev.NOT_REVIEWED): 4}
    desk = ReviewDesk(second)
    mn_posts = [p for p in second.plans(AT_NINE.date()) if p.language == "mn"]
    assert sorted(p.key for p in mn_posts) == sorted(f"{RELATIONS}/2027/{c}/mn"
                                                     for c in CHANNELS)
    sent = [desk.approve(post, by="editor") for post in mn_posts]
    assert [r.outcome if r else None for r in sent] == [svc.PUBLISHED] * 4
    store.close()

    store, third = started(db_url, settings, AT_NINE + dt.timedelta(hours=1))
    assert outcomes(third.post_due()) == {("en", svc.ALREADY_PUBLISHED, None): 4,
                                          ("mn", svc.ALREADY_PUBLISHED, None): 4}
    claims = Counter(e.stream_id for e in post_events(store, ev.CLAIMED))
    assert claims == {f"post-{RELATIONS}-2027-{c}{s}": 1 for c in CHANNELS for s in ("", "-mn")}
    store.close()

    lines = outbox_records(settings)
    assert [(r["key"], r["language"], r["text"]) for r in lines] == [
        (f"{RELATIONS}/2027/outbox", "en", EN_FORTIETH),
        (f"{RELATIONS}/2027/outbox/mn", "mn", MN_FORTIETH)]
    assert [r.text for r in x_api.requests] == [EN_FORTIETH, MN_FORTIETH]
    assert x_api.take_problems() == []

    english, mongolian = mastodon.statuses
    assert mongolian.form["status"] == [MN_FORTIETH] and mongolian.form["language"] == ["mn"]
    assert english.form["status"] == [EN_FORTIETH]
    (card,) = mongolian.body["media_attachments"]
    assert card["description"] == ("Зураг: АНУ, Монгол Улс дипломат харилцаа тогтоов. "
                                   f"нэгдүгээр сарын 27, 40 жил. {settings.feed.title}.")
    assert mastodon.problems == []

    by_lang = {tuple(r["langs"]): r for r in pds.records.values()}
    assert set(by_lang) == {("en",), ("mn",)}
    assert by_lang[("mn",)]["text"] == MN_FORTIETH
    (image,) = by_lang[("mn",)]["embed"]["images"]
    assert image["alt"].startswith("Зураг: АНУ, Монгол Улс")
    assert pds.problems == []


def test_with_require_approval_only_the_exact_approved_mongolian_text_goes_out(
        db_url: str, tmp_path: Path, fakes: Fakes) -> None:
    settings = settings_with(tmp_path, db_url, fakes, require_approval=True)
    store, service = started(db_url, settings, AT_NINE - dt.timedelta(days=1))
    record_all(store, [shipped_relations()])
    desk = ReviewDesk(service)
    posts = service.plans(AT_NINE.date())
    for post in posts:
        assert desk.approve(post, by="editor") is None  # not due yet: approved, not sent
    mn_x = next(p for p in posts if p.key == f"{RELATIONS}/2027/x/mn")
    edited = MN_FORTIETH.replace("ойн баяр тохиож", "ой тохиож")
    desk.edit(mn_x, edited, by="editor")  # a new text voids the approval of the old one
    store.close()

    store, service = started(db_url, settings, AT_NINE)
    results = {r.post.key: r for r in service.post_due()}
    assert results[mn_x.key].outcome == svc.HELD and results[mn_x.key].detail == ev.NOT_APPROVED
    assert Counter(r.outcome for r in results.values()) == {svc.PUBLISHED: 7, svc.HELD: 1}
    result = ReviewDesk(service).approve(mn_x, by="editor")
    assert result is not None and result.outcome == svc.PUBLISHED
    store.close()
    x_api = fakes[0]
    assert sorted(r.text for r in x_api.requests) == sorted([EN_FORTIETH, edited])


def test_a_reviewed_translation_goes_out_without_approval_and_an_untranslated_one_not_at_all(
        db_url: str, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, db_url, languages=["en", "mn"])
    store, service = started(db_url, settings, AT_NINE)
    untranslated = milestone("second-27", "2017-01-27", title="A second milestone")
    record_all(store, [shipped_relations(reviewed=True), untranslated])
    items, unposted = rehearse_day(ReviewDesk(service), AT_NINE.date(), languages=["mn"])
    assert [(i.entry.post.key, i.ready, i.link) for i in items] == [
        (f"{RELATIONS}/2027/outbox/mn", True, MN_LINK)]
    assert [u.line() for u in unposted] == [
        "second-27: no mn post on 2027-01-27 (the milestone has no mn translation)"]
    results = service.post_due()
    assert sorted((r.post.key, r.outcome) for r in results) == [
        (f"{RELATIONS}/2027/outbox", svc.PUBLISHED), (f"{RELATIONS}/2027/outbox/mn", svc.PUBLISHED),
        ("second-27/2027/outbox", svc.PUBLISHED)]
    texts = {r["key"]: r["text"] for r in outbox_records(settings)}
    assert texts[f"{RELATIONS}/2027/outbox/mn"] == MN_FORTIETH
    assert not any(k.startswith("second-27") and k.endswith("/mn") for k in texts)
    store.close()


def test_english_only_by_default_keeps_the_old_keys(db_url: str, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, db_url)
    assert settings.posting.languages == ["en"]
    store, service = started(db_url, settings, AT_NINE)
    record_all(store, [shipped_relations()])
    assert [(r.post.key, r.outcome) for r in service.post_due()] == [
        (f"{RELATIONS}/2027/outbox", svc.PUBLISHED)]
    assert {e.stream_id for e in post_events(store)} == {f"post-{RELATIONS}-2027-outbox"}
    store.close()


def test_rehearse_and_queue_by_language_with_cards_from_the_command_line(
        tmp_path: Path, fakes: Fakes) -> None:
    x_api, mastodon, pds = fakes
    url = f"sqlite:///{tmp_path / 'chronicle.db'}"
    config = write_config(tmp_path, url, channels=CHANNELS, extra=f"""
languages = ["en", "mn"]
x_api_base_url = "{x_api.base_url}"
mastodon_base_url = "{mastodon.base_url}"
bluesky_pds_url = "{pds.base_url}"
""")
    assert run_cli("load", env=env_for(config)).code == 0
    env = env_for(config, CHRONICLE_FAKE_NOW="2027-01-20T10:00:00+08:00", **SECRETS)
    result = invoke("rehearse", "--date", "2027-01-27", "--lang", "mn", "--json", env=env)
    assert result.exit_code == 0, result.output
    rows = {r["channel"]: r for r in json.loads(result.stdout)}
    assert set(rows) == set(CHANNELS)
    for channel, row in rows.items():
        assert row["language"] == "mn" and row["key"] == f"{RELATIONS}/2027/{channel}/mn"
        assert row["text"] == MN_FORTIETH and row["length"] <= row["max_length"]
        assert row["link"] == MN_LINK and not row["ready"]
        assert any(s.startswith("translation not reviewed (mn, reviewed: false)")
                   for s in row["stops"])
    assert rows["bluesky"]["length"] == len(MN_FORTIETH)  # graphemes: one per letter
    assert rows["mastodon"]["length"] == len(MN_FORTIETH) - len(MN_LINK) + 23
    assert rows["x"]["image"] == "none (x posts text only)"
    assert rows["mastodon"]["image"].startswith("card 1200×630 PNG, ")
    assert rows["mastodon"]["image"].endswith(
        "alt: Зураг: АНУ, Монгол Улс дипломат харилцаа тогтоов. нэгдүгээр сарын 27, 40 жил. "
        "Mongolia–United States: a chronicle.")

    table = invoke("rehearse", "--date", "2027-01-27", "--lang", "mn", env=env)
    assert table.exit_code == 0 and "(mn)" in table.stdout and "(en)" not in table.stdout
    english = json.loads(invoke("rehearse", "--date", "2027-01-27", "--lang", "en", "--json",
                                env=env).stdout)
    assert {r["language"] for r in english} == {"en"} and len(english) == 4

    queue = invoke("queue", "--days", "8", "--lang", "mn", "--json", env=env)
    assert queue.exit_code == 0, queue.output
    queued = [r for r in json.loads(queue.stdout)
              if r["key"].startswith(f"{RELATIONS}/")]
    assert {(r["key"], r["state"], r["text"]) for r in queued} == {
        (f"{RELATIONS}/2027/{c}/mn", "draft", MN_FORTIETH) for c in CHANNELS}
    assert queued[0]["image"] != "none"

    approved = invoke("approve", f"{RELATIONS}/2027/x/mn", "--by", "editor", env=env)
    assert approved.exit_code == 0 and f"{RELATIONS}/2027/x/mn: approved by editor" in (
        approved.stdout)
    after = json.loads(invoke("rehearse", "--date", "2027-01-27", "--lang", "mn", "--json",
                              env=env).stdout)
    assert {r["channel"] for r in after if r["ready"]} == {"x"}

    wrong = run_cli("rehearse", "--date", "2027-01-27", "--lang", "de", env=env)
    assert wrong.code == 2
    assert wrong.stderr.strip() == "--lang de: not in posting.languages (en, mn)"
    assert x_api.requests == [] and mastodon.statuses == [] and pds.records == {}


def test_a_milestone_without_a_translation_is_named_by_rehearse(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chronicle.db'}"
    store = open_store(url)
    record_all(store, [milestone("second-27", "2017-01-27", title="A second milestone")])
    store.close()
    config = write_config(tmp_path, url, channels=["outbox"], extra='languages = ["en", "mn"]',
                          load_on_start=False)
    env = env_for(config, CHRONICLE_FAKE_NOW="2027-01-20T10:00:00+08:00")
    result = invoke("rehearse", "--date", "2027-01-27", "--lang", "mn", env=env)
    assert result.exit_code == 0, result.output
    assert ("not posted: second-27: no mn post on 2027-01-27 (the milestone has no mn "
            "translation)") in result.stderr
    assert "no anniversary posts on 2027-01-27" in result.stdout


def test_an_unknown_posting_language_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'c.db'}", channels=["outbox"],
                          extra='languages = ["en", "xx"]')
    result = run_cli("rehearse", "--date", "2027-01-27", env=env_for(config))
    assert result.code == 2 and "Traceback" not in result.stderr
    assert "posting.languages" in result.stderr and "'xx'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_mongolian_digest_holds_only_the_translated_milestones(db_url: str,
                                                                 tmp_path: Path) -> None:
    settings = settings_for(tmp_path, db_url, languages=["en", "mn"], digest=True)
    store, service = started(db_url, settings, AT_NINE - dt.timedelta(days=1))
    record_all(store, [shipped_relations(reviewed=True),
                       milestone("second-27", "2017-01-27", title="A second milestone")])
    plan = service.planner().plan_day(AT_NINE.date(), ["outbox"])
    english, mongolian = plan.posts
    assert english.key == "digest-01-27/2027/outbox" and english.milestone_ids == (
        RELATIONS, "second-27")
    assert mongolian.key == "digest-01-27/2027/outbox/mn" and mongolian.reviewed
    assert mongolian.stream_id == "post-digest-2027-01-27-outbox-mn"
    assert mongolian.milestone_ids == (RELATIONS,)
    assert mongolian.text == (
        "Өнөөдөр, нэгдүгээр сарын 27, тохиож буй ойнууд:\n- 40 жилийн өмнө, 1987 оны "
        "нэгдүгээр сарын 27: АНУ, Монгол Улс дипломат харилцаа тогтоов. АНУ 1987 оны "
        "нэгдүгээр сарын 27-нд Монгол Улсыг хүлээн зөвшөөрч, дипломат харилцаа тогтоожээ. "
        "Баримт бичигт Гэндэнгийн Нямдоо, Төрийн нарийн бичгийн дарга Жорж Шульц нар Цагаан "
        f"ордны Гэрээний танхимд гарын үсэг зурсан. {MN_LINK}")
    assert [u.line() for u in plan.unposted] == [
        "second-27: no mn post on 2027-01-27 (the milestone has no mn translation)"]
    store.close()
