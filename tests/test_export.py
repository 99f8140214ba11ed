"""`chronicle export`: the served bytes as files, written atomically and only when changed."""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from pathlib import Path
from urllib.parse import unquote

import pytest

from chronicle.feeds.export import MANIFEST, SiteWriter, atomic_write
from chronicle.feeds.model import Document
from chronicle.site import export_site
from chronicle.store import SqlEventStore
from chronicle.web import create_app
from tests.conftest import run_cli
from tests.test_feeds_support import (
    caught_up,
    milestone,
    record_all,
    retract_one,
    settings_for,
    write_config,
)
from tests.test_serve_http import Client


def export(db_url: str, config: Path, out: Path) -> str:
    """The real command in a subprocess."""
    result = run_cli("--config", str(config), "--database-url", db_url, "export", "--out",
                     str(out))
    assert result.code == 0, result.stderr
    return result.stdout


def export_here(store: SqlEventStore, db_url: str, config: Path, out: Path) -> str:
    """What the command does, in-process (a subprocess costs a second or more)."""
    return export_site(settings_for(config, db_url), caught_up(store), out).summary()


def files(out: Path) -> dict[str, Path]:
    return {"/" + str(p.relative_to(out)): p for p in out.rglob("*")
            if p.is_file() and p.name != MANIFEST}


def feed_files(out: Path) -> dict[str, Path]:
    """The feed documents (other features may export pages and calendars beside them)."""
    return {path: p for path, p in files(out).items()
            if path.startswith("/feeds/") and path.endswith((".atom", ".rss", ".json"))}


def counts(report: str) -> tuple[int, int, int]:
    match = re.search(r"(\d+) written, (\d+) unchanged, (\d+) removed", report)
    assert match, report
    written, unchanged, removed = (int(n) for n in match.groups())
    return written, unchanged, removed


def identity(paths: dict[str, Path]) -> dict[str, tuple[int, int]]:
    return {path: (p.stat().st_ino, p.stat().st_mtime_ns) for path, p in paths.items()}


def test_export_writes_what_the_server_serves_then_only_what_changed(
        store: SqlEventStore, db_url: str, tmp_path: Path) -> None:
    record_all(store, [milestone(n, tags=("trade",) if n % 2 else ("visits",))
                       for n in range(7)])
    config = write_config(tmp_path, 8000, main_size=4, archive_size=3)
    out = tmp_path / "site"
    first = counts(export(db_url, config, out))
    written = feed_files(out)
    assert {"/feeds/milestones.atom", "/feeds/archive/milestones-1.atom",
            "/feeds/tags/trade.rss", "/feeds/anniversaries.json"} <= set(written)
    assert first == (len(files(out)), 0, 0)
    with Client(create_app(settings_for(config, db_url), store)) as client:
        for path, file in written.items():
            served = client.get(path)
            assert served.status_code == 200, path
            assert served.content == file.read_bytes(), path
            modified = dt.datetime.strptime(served.headers["last-modified"],
                                            "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=dt.UTC)
            assert int(file.stat().st_mtime) == int(modified.timestamp()), path
            assert file.stat().st_mode & 0o777 == 0o644
    before = identity(files(out))

    assert counts(export_here(store, db_url, config, out)) == (0, len(before), 0)
    assert identity(files(out)) == before

    record_all(store, [milestone(7, tags=("trade",))])  # 8 entries: no new full page of 3
    report = counts(export_here(store, db_url, config, out))
    now = identity(files(out))
    changed = {path for path in now if now[path] != before.get(path)}
    assert {path for path in changed if path in written} == {
        f"/feeds/{name}.{ext}" for name in ("milestones", "tags/trade")
        for ext in ("atom", "rss", "json")}
    assert report == (len(changed), len(now) - len(changed), 0)
    assert not list(out.rglob("*.tmp")) and not list(out.rglob(".*.tmp"))


def test_documents_that_no_longer_exist_are_removed(
        store: SqlEventStore, db_url: str, tmp_path: Path) -> None:
    record_all(store, [milestone(0, tags=("lonely",)), milestone(1, tags=("trade",))])
    config = write_config(tmp_path, 8000)
    out = tmp_path / "site"
    export_here(store, db_url, config, out)
    assert (out / "feeds/tags/lonely.atom").exists()
    (out / "feeds/notes.txt").write_text("not ours")
    before = set(files(out))
    retract_one(store, "feed-milestone-0")
    removed = counts(export(db_url, config, out))[2]
    gone = before - set(files(out))
    assert {f"/feeds/tags/lonely.{ext}" for ext in ("atom", "rss", "json")} <= gone
    assert removed == len(gone)
    assert (out / "feeds/tags/trade.atom").exists() and (out / "feeds/notes.txt").exists()


def test_a_reader_never_sees_a_partly_written_file(tmp_path: Path) -> None:
    target = tmp_path / "feeds" / "milestones.atom"
    bodies = (b"A" * 3_000_000, b"B" * 2_000_000)
    atomic_write(target, bodies[0])
    seen: set[int] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            data = target.read_bytes()
            assert data in bodies
            seen.add(len(data))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(40):
            atomic_write(target, bodies[n % 2])
    finally:
        done.set()
        reader.join()
    assert seen == {3_000_000, 2_000_000}
    assert sorted(p.name for p in target.parent.iterdir()) == ["milestones.atom"]


def test_document_paths_cannot_leave_the_export_directory(tmp_path: Path) -> None:
    writer = SiteWriter(tmp_path / "site")
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for path in ("/../escape.atom", "/feeds/../../escape.atom", "/"):
        with pytest.raises(ValueError, match="leaves the export directory"):
            writer.write(Document(path, b"x", "text/plain", moment))
    assert not (tmp_path / "escape.atom").exists()
    assert writer.write(Document("/feeds/ok.atom", b"x", "text/plain", moment))
    assert not writer.write(Document("/feeds/ok.atom", b"x", "text/plain", moment))
    assert os.stat(tmp_path / "site/feeds/ok.atom").st_mtime == moment.timestamp()


def test_symbolic_links_are_followed_and_cannot_lead_out(tmp_path: Path) -> None:
    """A link in the site is followed as `Path.resolve` follows it, at any level: one to
    elsewhere in the site is written through, one out of it is refused (directories are
    resolved once and cached, files looked at each time)."""
    site, outside = tmp_path / "site", tmp_path / "outside"
    (site / "shared").mkdir(parents=True)
    outside.mkdir()
    (site / "inside").symlink_to(site / "shared")
    (site / "out").symlink_to(outside)
    (site / "feeds").mkdir()
    (site / "feeds" / "link.atom").symlink_to(outside / "x.atom")
    writer = SiteWriter(site)
    assert writer.target("/inside/a/page.html") == site / "shared" / "a" / "page.html"
    assert writer.target("/inside/a/other.html") == site / "shared" / "a" / "other.html"
    assert writer.target("/feeds/ok.atom") == site / "feeds" / "ok.atom"
    for path in ("/out/page.html", "/out/deeper/page.html", "/feeds/link.atom",
                 "/inside/../../outside/x"):
        with pytest.raises(ValueError, match="leaves the export directory"):
            writer.target(path)
    for path in ("/inside/a/page.html", "/feeds/ok.atom", "/inside/../feeds/x.atom",
                 "/years/1987/index.html", "/mn/milestones/a%2Fb/index.html"):
        assert writer.target(path) == (site / unquote(path).lstrip("/")).resolve()


def test_a_re_export_touches_only_the_changed_documents(tmp_path: Path) -> None:
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    documents = [Document(f"/milestones/m-{n}/index.html", f"page {n}".encode(), "text/html",
                          moment) for n in range(50)]
    writer = SiteWriter(tmp_path / "site")
    done: list[int] = []
    assert len(writer.write_all(documents, progress=done.append).written) == 50
    assert done[-1] == 50
    pages = files(tmp_path / "site")
    before = {path: (p.stat().st_ino, p.stat().st_mtime_ns, p.stat().st_ctime_ns)
              for path, p in pages.items()}

    again = writer.write_all(documents)
    assert (len(again.written), len(again.unchanged)) == (0, 50)
    changed = Document("/milestones/m-7/index.html", b"page 7, corrected", "text/html",
                       moment + dt.timedelta(days=1))
    report = writer.write_all([changed if d.path == changed.path else d for d in documents])
    assert report.written == [changed.path] and len(report.unchanged) == 49
    after = {path: (p.stat().st_ino, p.stat().st_mtime_ns, p.stat().st_ctime_ns)
             for path, p in files(tmp_path / "site").items()}
    assert {path for path in after if after[path] != before[path]} == {changed.path}
    assert pages[changed.path].read_bytes() == b"page 7, corrected"
    assert int(pages[changed.path].stat().st_mtime) == int(changed.last_modified.timestamp())
    assert not list((tmp_path / "site").rglob("*.tmp"))
