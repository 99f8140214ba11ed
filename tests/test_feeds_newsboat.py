"""A real feed reader, newsboat, subscribed to the exported main Atom feed on a static host.

newsboat keeps its state (cache.db) between fetches, as a subscriber's does: a revision of the
1862 milestone must update its item in place, a retraction must show as retracted, and nothing
may ever be listed twice.
"""

from __future__ import annotations

import dataclasses
import functools
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from chronicle.config import Settings
from chronicle.loader import load_sources
from chronicle.repository import MilestoneRepository
from chronicle.site import export_site
from chronicle.store import SqlEventStore
from tests.test_feeds_support import REPO, caught_up, retract_one, revise_one

NEWSBOAT = shutil.which("newsboat")
pytestmark = pytest.mark.skipif(NEWSBOAT is None,
                                reason="no newsboat (apt-get install newsboat)")

OLDEST = "travel-pass-1862"
WITHDRAWN = "diplomatic-relations-established"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def static_host(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, site root) of `python3 -m http.server`'s handler on a free loopback port."""
    root = tmp_path / "site"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


class Newsboat:
    """One subscriber: its URL list, config and cache.db kept across reloads."""

    def __init__(self, home: Path, feed_url: str) -> None:
        self.home = home
        home.mkdir()
        (home / "urls").write_text(feed_url + "\n")
        (home / "config").write_text("")
        self.cache = home / "cache.db"

    def reload(self) -> str:
        assert NEWSBOAT is not None
        done = subprocess.run(
            [NEWSBOAT, "-u", str(self.home / "urls"), "-c", str(self.cache),
             "-C", str(self.home / "config"), "-x", "reload", "print-unread"],
            capture_output=True, text=True, timeout=60, env={"HOME": str(self.home)},
            check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def items(self) -> dict[str, str]:
        """guid → title of every item newsboat holds (not deleted)."""
        with sqlite3.connect(self.cache) as db:
            rows = db.execute("SELECT guid, title FROM rss_item WHERE deleted = 0").fetchall()
        guids = [guid for guid, _ in rows]
        assert len(guids) == len(set(guids)), "an entry is listed twice"
        return dict(rows)


def test_newsboat_sees_a_revision_in_place_and_a_retraction(
        store: SqlEventStore, static_host: tuple[str, Path], tmp_path: Path) -> None:
    base, root = static_host
    settings = Settings(base_dir=REPO)
    settings = settings.model_copy(update={
        "feed": settings.feed.model_copy(update={"base_url": base})})
    load_sources(store, settings)

    def publish() -> None:
        # A static host's Last-Modified has whole seconds: a change within the second of the
        # reader's last fetch would be answered 304 (subscribers poll minutes apart).
        time.sleep(1.1)
        export_site(settings, caught_up(store), root)

    authority = settings.feed.tag_authority
    oldest, withdrawn = (f"tag:{authority}:milestone/{mid}" for mid in (OLDEST, WITHDRAWN))
    publish()
    reader = Newsboat(tmp_path / "newsboat", f"{base}/feeds/milestones.atom")
    assert "unread articles" in reader.reload()
    first = reader.items()
    assert len(first) >= settings.feed.main_size
    assert oldest not in first  # 1862 is old news: not among what changed last

    known = MilestoneRepository(store).get(OLDEST).milestone
    assert known is not None
    revise_one(store, dataclasses.replace(known, title="A corrected 1862 title"),
               reason="a better source")
    publish()
    reader.reload()
    second = reader.items()
    assert second[oldest] == "1862: A corrected 1862 title"
    assert set(first) <= set(second) and len(second) == len(first) + 1

    retract_one(store, WITHDRAWN, reason="withdrawn for the test")
    publish()
    reader.reload()
    third = reader.items()
    assert third[withdrawn].startswith("Retracted: ")
    assert third[oldest] == "1862: A corrected 1862 title"
    assert set(third) == set(second) | {withdrawn}
