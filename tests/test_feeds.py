"""Feed documents rendered in-process from real read models (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import time_machine

from chronicle.config import FeedSettings, Settings
from chronicle.domain import revise
from chronicle.feeds import feed_documents
from chronicle.projections import Projector, ReadModels
from chronicle.repository import Decision, MilestoneRepository
from chronicle.store import SqlEventStore
from tests.test_feeds_support import (
    caught_up,
    documents,
    milestone,
    parse,
    record_all,
    retract_one,
    revise_one,
)

AUTHORITY = FeedSettings().tag_authority
REPO = Path(__file__).resolve().parents[1]


def entry_id(n: int) -> str:
    return f"tag:{AUTHORITY}:milestone/feed-milestone-{n}"


def test_atom_and_rss_parse_with_every_entry_field(store: SqlEventStore) -> None:
    record_all(store, [milestone(0, date="1987-01-27", tags=("diplomacy", "embassies")),
                       milestone(1, date="1988-04"),
                       milestone(2, date="1899", circa=True)])
    models = caught_up(store)
    views = {v.id: v for v in models.milestones()}
    docs = documents(store)
    atom, rss = parse(docs["/feeds/milestones.atom"]), parse(docs["/feeds/milestones.rss"])
    assert atom.version == "atom10" and rss.version == "rss20"
    for feed in (atom, rss):
        assert feed.feed.title == FeedSettings().title
        # Recorded together: the later historical date first.
        assert [e.id for e in feed.entries] == [entry_id(1), entry_id(0), entry_id(2)]
    titles = [e.title for e in atom.entries]
    assert titles == ["April 1988: Milestone 1 between Mongolia and the United States",
                      "27 January 1987: Milestone 0 between Mongolia and the United States",
                      "c. 1899: Milestone 2 between Mongolia and the United States"]
    first = atom.entries[1]
    view = views["feed-milestone-0"]
    assert first.published == view.recorded_at.astimezone(dt.UTC).isoformat()
    assert first.updated == view.updated_at.astimezone(dt.UTC).isoformat()
    assert [t.term for t in first.tags] == ["diplomacy", "embassies"]
    assert first.link == "http://127.0.0.1:8000/milestones/feed-milestone-0"
    assert first.summary == "What happened in milestone 0."
    html = first.content[0].value
    assert "<strong>27 January 1987</strong>" in html
    assert '<a href="https://example.org/source">Source of 0</a>' in html
    assert "<blockquote><p>The passage quoted for 0.</p></blockquote>" in html
    assert 'href="http://127.0.0.1:8000/milestones/feed-milestone-0"' in html
    assert "A note on 1." in atom.entries[0].content[0].value
    rss_first = rss.entries[1]
    assert rss_first.guidislink is False
    assert rss_first.published_parsed[:6] == view.recorded_at.astimezone(dt.UTC).timetuple()[:6]
    assert [t.term for t in rss_first.tags] == ["diplomacy", "embassies"]
    assert "<blockquote>" in rss_first.content[0].value


def test_json_feed_1_1(store: SqlEventStore) -> None:
    record_all(store, [milestone(n) for n in range(3)])
    data = json.loads(documents(store)["/feeds/milestones.json"].body)
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert data["feed_url"] == "http://127.0.0.1:8000/feeds/milestones.json"
    assert data["home_page_url"] == "http://127.0.0.1:8000/"
    assert [item["id"] for item in data["items"]] == [entry_id(1), entry_id(0), entry_id(2)]
    item = data["items"][1]
    assert item["title"].startswith("27 January 1987: ")
    assert item["tags"] == ["diplomacy"]
    assert dt.datetime.fromisoformat(item["date_published"]).tzinfo is not None
    assert "<blockquote>" in item["content_html"]


def test_main_feed_holds_what_changed_last(store: SqlEventStore) -> None:
    """Last change first; milestones recorded together: the later historical date first."""
    record_all(store, [milestone(n) for n in range(6)])
    record_all(store, [milestone(6, date="1862")])  # historically oldest, but added last
    docs = documents(store, FeedSettings(main_size=4, archive_size=4))
    feed = parse(docs["/feeds/milestones.atom"])
    # 6 was added last; then 2019 (3), 2004 (5), 1990 (4): every unarchived entry is among them.
    assert [e.id for e in feed.entries] == [entry_id(n) for n in (6, 3, 5, 4)]
    assert len(json.loads(docs["/feeds/milestones.json"].body)["items"]) == 4


def test_main_feed_also_holds_what_no_full_archive_page_holds_yet(store: SqlEventStore) -> None:
    """With main_size < archive_size, the current feed grows until the page fills."""
    record_all(store, [milestone(n) for n in range(8)])
    feed = parse(documents(store, FeedSettings(main_size=2, archive_size=5))[
        "/feeds/milestones.atom"])
    # The two latest by historical date (3: 2019, 5: 2004), and 6 and 7, on no full page yet.
    assert [e.id for e in feed.entries] == [entry_id(n) for n in (3, 5, 7, 6)]


def test_revision_comes_back_to_the_top_and_retraction_shows_as_retracted(
        store: SqlEventStore) -> None:
    record_all(store, [milestone(n) for n in range(3)])
    before = parse(documents(store)["/feeds/milestones.atom"])
    revise_one(store, milestone(0, title="A corrected title"))
    retract_one(store, "feed-milestone-1", reason="a misread source")
    docs = documents(store)
    for fmt in ("atom", "rss"):
        after = parse(docs[f"/feeds/milestones.{fmt}"])
        assert [e.id for e in after.entries] == [entry_id(1), entry_id(0), entry_id(2)]
    after = parse(docs["/feeds/milestones.atom"])
    gone, new = after.entries[0], after.entries[1]
    assert gone.title == "Retracted: Milestone 1 between Mongolia and the United States"
    assert "a misread source" in gone.summary and "a misread source" in gone.content[0].value
    old = next(e for e in before.entries if e.id == entry_id(0))
    assert new.title == "27 January 1987: A corrected title"
    assert new.published == old.published and new.updated > old.updated
    assert after.feed.updated == gone.updated  # the feed's updated is its newest entry's
    json_items = json.loads(docs["/feeds/milestones.json"].body)["items"]
    assert json_items[0]["title"].startswith("Retracted: ")
    for path, doc in docs.items():
        if path.startswith("/feeds/tags/"):
            assert b"feed-milestone-1" not in doc.body, path
    # The retraction left no newer entry behind, but Last-Modified still moved past it.
    retracted_at = caught_up(store).retracted("feed-milestone-1")
    assert retracted_at is not None
    assert docs["/feeds/milestones.atom"].last_modified >= retracted_at.retracted_at


def test_a_retraction_leaves_the_main_feed_after_retraction_days(store: SqlEventStore) -> None:
    """Counted to the chronicle's newest change, so the same log gives the same bytes."""
    record_all(store, [milestone(n) for n in range(3)])
    retract_one(store, "feed-milestone-1")
    start = dt.datetime.now(dt.UTC)
    settings = FeedSettings(retraction_days=30)
    for days, n, kept in ((29, 3, True), (31, 4, False)):
        with time_machine.travel(start + dt.timedelta(days=days), tick=False):
            record_all(store, [milestone(n)])
        ids = [e.id for e in parse(documents(store, settings)["/feeds/milestones.atom"]).entries]
        assert (entry_id(1) in ids) is kept, days
    assert entry_id(1) in [e.id for e in parse(documents(store, FeedSettings(
        retraction_days=40))["/feeds/milestones.atom"]).entries]


def test_documents_are_byte_identical_after_rebuild_and_reload(store: SqlEventStore) -> None:
    milestones = [milestone(n) for n in range(12)]
    record_all(store, milestones)
    revise_one(store, milestone(3, title="Revised once"))
    retract_one(store, "feed-milestone-4")
    settings = FeedSettings(archive_size=3, main_size=5)
    first = documents(store, settings)
    Projector(store).rebuild()
    assert documents(store, settings) == first
    # Reloading the same data decides no new events, so nothing changes either.
    repo = MilestoneRepository(store)
    head = store.head()
    current = {m.id: m for m in milestones}
    current["feed-milestone-3"] = milestone(3, title="Revised once")
    decisions = [Decision(repo.get(mid), revise(repo.get(mid), m, "reload"))
                 for mid, m in current.items() if mid != "feed-milestone-4"]
    repo.save(decisions, {"by": "reload"})
    assert store.head() == head
    assert documents(store, settings) == first


def test_no_time_of_rendering_in_any_document(store: SqlEventStore) -> None:
    record_all(store, [milestone(n) for n in range(3)])
    models = caught_up(store)
    first = feed_documents(FeedSettings(), models)
    with time_machine.travel(dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.UTC), tick=False):
        later = feed_documents(FeedSettings(), models)
    assert later == first
    assert all(b"2031" not in d.body and b"06 May" not in d.body for d in later)


def test_empty_chronicle_has_valid_empty_feeds_with_a_fixed_date() -> None:
    from chronicle.feeds import FeedRenderer, Snapshot

    docs = FeedRenderer(FeedSettings()).documents(Snapshot((), (), None, 0))
    paths = sorted(d.path for d in docs)
    assert paths == sorted(f"/feeds/{name}.{fmt}" for name in ("milestones", "anniversaries")
                           for fmt in ("atom", "rss", "json"))
    for doc in docs:
        if doc.path.endswith(".json"):
            assert json.loads(doc.body)["items"] == []
        else:
            assert parse(doc).entries == []
        assert doc.last_modified == dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    assert "2000-01-01T00:00:00+00:00" in parse(docs[0]).feed.updated


def test_tag_feeds_hold_exactly_their_tag(store: SqlEventStore) -> None:
    record_all(store, [milestone(n, tags=(("trade",), ("trade", "visits"), ("visits",))[n % 3])
                       for n in range(7)])
    docs = documents(store)
    assert {p for p in docs if p.startswith("/feeds/tags/")} == {
        f"/feeds/tags/{tag}.{fmt}" for tag in ("trade", "visits")
        for fmt in ("atom", "rss", "json")}
    trade = parse(docs["/feeds/tags/trade.atom"])
    assert [e.id for e in trade.entries] == [entry_id(n) for n in (6, 4, 3, 1, 0)]
    assert trade.feed.id == f"tag:{AUTHORITY}:feed/tags/trade"
    assert all("trade" in [t.term for t in e.tags] for e in trade.entries)
    visits = json.loads(docs["/feeds/tags/visits.json"].body)
    assert [i["id"] for i in visits["items"]] == [entry_id(n) for n in (5, 4, 2, 1)]
    assert len(parse(docs["/feeds/tags/visits.rss"]).entries) == 4


def test_the_anniversaries_feed_lists_published_posts() -> None:
    from chronicle.feeds import FeedRenderer, Snapshot
    from chronicle.projections import PublishedPostView

    post = PublishedPostView(
        key="diplomatic-relations-established/2027/x", channel="x",
        text="Today, January 27, we mark 40 years of diplomatic relations.\n#Mongolia",
        milestone_ids=("diplomatic-relations-established",), local_date=dt.date(2027, 1, 27),
        published_at=dt.datetime(2027, 1, 27, 0, 0, 5, tzinfo=dt.UTC), remote_id="1",
        remote_url="https://x.com/chronicle/status/1", position=99)
    docs = {d.path: d for d in FeedRenderer(FeedSettings()).documents(
        Snapshot((), (post,), None, 99))}
    feed = parse(docs["/feeds/anniversaries.atom"])
    (entry,) = feed.entries
    assert entry.id == f"tag:{AUTHORITY}:post/diplomatic-relations-established/2027/x"
    assert entry.title == ("27 January 2027: Today, January 27, we mark 40 years of "
                           "diplomatic relations.")
    assert entry.link == "http://127.0.0.1:8000/milestones/diplomatic-relations-established"
    assert "https://x.com/chronicle/status/1" in entry.content[0].value
    assert len(parse(docs["/feeds/anniversaries.rss"]).entries) == 1
    assert json.loads(docs["/feeds/anniversaries.json"].body)["items"][0]["external_url"] == (
        "https://x.com/chronicle/status/1")


def test_anniversaries_feed_is_empty_without_a_posts_projection(store: SqlEventStore) -> None:
    record_all(store, [milestone(0)])
    models = caught_up(store)
    expected = len(models.published_posts(100)) if hasattr(models, "published_posts") else 0
    feed = parse(documents(store)["/feeds/anniversaries.atom"])
    assert len(feed.entries) == expected
    assert feed.feed.id == f"tag:{AUTHORITY}:feed/anniversaries"


def test_rss_dates_are_rfc_822_in_english(store: SqlEventStore) -> None:
    record_all(store, [milestone(0)])
    body = documents(store)["/feeds/milestones.rss"].body.decode()
    dates = re.findall(r"<(?:pubDate|lastBuildDate)>([^<]*)<", body)
    assert len(dates) == 2
    for text in dates:
        assert re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|"
                            r"Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT", text), text


def test_feed_metadata_comes_from_settings(store: SqlEventStore) -> None:
    record_all(store, [milestone(0)])
    settings = FeedSettings(title="A title", subtitle="A subtitle", author_name="An author",
                            base_url="https://chronicle.example.org/", language="mn",
                            icon="https://chronicle.example.org/icon.png",
                            logo="https://chronicle.example.org/logo.png",
                            rights="CC BY 4.0", hub_url="https://hub.example.org/")
    docs = documents(store, settings)
    atom = parse(docs["/feeds/milestones.atom"])
    assert (atom.feed.title, atom.feed.subtitle, atom.feed.author) == (
        "A title", "A subtitle", "An author")
    assert atom.feed.rights == "CC BY 4.0" and atom.feed.language == "mn"
    assert atom.feed.icon == "https://chronicle.example.org/icon.png"
    links = {link.rel: link.href for link in atom.feed.links}
    assert links["self"] == "https://chronicle.example.org/feeds/milestones.atom"
    assert links["hub"] == "https://hub.example.org/"
    assert atom.entries[0].link == "https://chronicle.example.org/milestones/feed-milestone-0"
    data = json.loads(docs["/feeds/milestones.json"].body)
    assert data["hubs"] == [{"type": "WebSub", "url": "https://hub.example.org/"}]
    assert data["icon"] == "https://chronicle.example.org/logo.png"


def test_read_models_on_both_backends_give_the_same_documents(store: SqlEventStore) -> None:
    """PostgreSQL answers timestamps in the session's zone; documents are always in UTC."""
    record_all(store, [milestone(0)])
    models = caught_up(store)
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET TIME ZONE 'Asia/Ulaanbaatar'")
    body = feed_documents(FeedSettings(), ReadModels(models.engine))[0].body
    assert b"+00:00</updated>" in body and b"+08:00" not in body


def test_the_shipped_data_set_reloaded_and_rebuilt(store: SqlEventStore) -> None:
    loader = pytest.importorskip("chronicle.loader")
    if not hasattr(loader, "load_sources"):
        pytest.skip("the loader has no load_sources yet")
    settings = Settings(base_dir=REPO)
    loader.load_sources(store, settings)
    first = {d.path: d for d in feed_documents(settings.feed, caught_up(store))}
    atom = parse(first["/feeds/milestones.atom"])
    # The 50 changed last, and every entry no full archive page holds yet.
    assert settings.feed.main_size == 50 <= len(atom.entries) < 89
    archive = parse(first["/feeds/archive/milestones-0.atom"])
    everything = {e.id for e in atom.entries} | {e.id for e in archive.entries}
    assert len(everything) == 89 == caught_up(store).count()
    assert all(e.id.startswith(f"tag:{AUTHORITY}:milestone/") for e in atom.entries)
    views = {f"tag:{AUTHORITY}:milestone/{v.id}": v.milestone
             for v in caught_up(store).milestones()}
    titles = {e.id: e.title for e in atom.entries + archive.entries}
    assert titles == {key: f"{m.date_words()}: {m.title}" for key, m in views.items()}
    assert "27 January 1987: The United States and Mongolia establish diplomatic relations" in (
        titles.values())
    assert {w.split(":")[0] for w in titles.values()} >= {"April 1988", "c. 1899"}
    head = store.head()
    loader.load_sources(store, settings)
    assert store.head() == head
    assert {d.path: d for d in feed_documents(settings.feed, caught_up(store))} == first
    Projector(store).rebuild()
    assert {d.path: d for d in feed_documents(settings.feed, caught_up(store))} == first
