"""The exported site on a plain static host: every internal link answers, none 404s.

`chronicle export` writes the shipped data set; `python3 -m http.server` serves it, as a user
would try it; a crawler follows every link of every page (and fetches every feed, asset and
calendar linked), from the home page.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import feedparser
import httpx
import lxml.html
import pytest

from tests.conftest import run_cli
from tests.test_feeds_support import free_port

CONFIGURED_BASE = "http://127.0.0.1:8000"   # feed.base_url's default: absolute links use it


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    database = f"sqlite:///{folder / 'chronicle.db'}"
    loaded = run_cli("--database-url", database, "load")
    assert loaded.code == 0, loaded.stderr
    out = folder / "site"
    done = run_cli("--database-url", database, "export", "--out", str(out))
    assert done.code == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def static_host(exported: Path) -> Iterator[str]:
    """`python3 -m http.server` on the export directory."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1", "--directory", str(exported)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "http.server did not start"
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def links_of(page_url: str, body: bytes) -> list[str]:
    tree = lxml.html.document_fromstring(body)
    found = [*tree.xpath("//a/@href"), *tree.xpath("//link/@href"),
             *tree.xpath("//script/@src"), *tree.xpath("//img/@src")]
    return [urldefrag(urljoin(page_url, str(href)))[0] for href in found]


def internal(url: str, base: str) -> str | None:
    """The URL on the static host, for a link into the site (relative or at the configured
    base URL); None for links elsewhere and for data: URLs."""
    if url.startswith(base):
        return url
    if url.startswith(CONFIGURED_BASE + "/") or url == CONFIGURED_BASE:
        return base + url.removeprefix(CONFIGURED_BASE)
    return None


def test_every_internal_link_of_the_export_answers_on_http_server(static_host: str) -> None:
    base = static_host
    queue, seen, broken, pages = [f"{base}/"], {f"{base}/"}, [], 0
    with httpx.Client(timeout=10) as client:
        while queue:
            url = queue.pop()
            response = client.get(url)
            if response.status_code != 200:
                broken.append(f"{response.status_code} {urlsplit(url).path}")
                continue
            if not response.headers.get("content-type", "").startswith("text/html"):
                continue
            pages += 1
            for link in links_of(url, response.content):
                target = internal(link, base)
                if target is not None and target not in seen:
                    seen.add(target)
                    queue.append(target)
    assert broken == []
    # Every milestone, tag and year page was reached, and the feeds and assets were fetched.
    assert pages > 89 + 5
    paths = {urlsplit(url).path for url in seen}
    assert {"/feeds/milestones.atom", "/assets/chronicle.css", "/calendar.ics"} <= paths
    assert "/milestones/diplomatic-relations-established/" in paths
    # The Mongolian site, reached through the language switch: its pages, feeds and calendar.
    assert {"/mn/", "/mn/milestones/diplomatic-relations-established/", "/mn/sources/",
            "/mn/feeds/milestones.atom", "/mn/calendar.ics"} <= paths
    assert sum(path.startswith("/mn/milestones/") for path in paths) == 89



def test_the_shipped_main_feed_holds_the_whole_chronicle(exported: Path) -> None:
    """With the shipped config a new subscriber gets every milestone, 1987 included."""
    feed = feedparser.parse((exported / "feeds" / "milestones.atom").read_bytes())
    ids = [entry.id for entry in feed.entries]
    assert len(ids) == len(set(ids)) == 89
    assert any(i.endswith(":milestone/diplomatic-relations-established") for i in ids)
