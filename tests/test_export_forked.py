"""The static export with forked renderers (`SiteWriter.rendering`): each process writes the
files of the documents it rendered and sends back only their names; the site is the one a
single process writes (bytes, modes, times), unchanged files stay alone, and a failure
anywhere leaves no file behind."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from chronicle import forked
from chronicle.config import Settings
from chronicle.feeds import documents
from chronicle.feeds.export import MANIFEST, SiteWriter, StagedDocument
from chronicle.feeds.model import Document
from chronicle.pages import builder
from chronicle.projections import ReadModels
from chronicle.store import SqlEventStore
from tests.test_forked import two_language_site

pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="no fork on this platform")


def pages(settings: Settings, read_models: ReadModels) -> list[Document]:
    return builder.documents(settings, read_models, lambda _: dt.date(2026, 12, 6),
                             cards=False)


def site(out: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file but the manifest: bytes, mode, modification time."""
    return {str(p.relative_to(out)): (p.read_bytes(), p.stat().st_mode, p.stat().st_mtime_ns)
            for p in out.rglob("*") if p.is_file() and p.name != MANIFEST}


def temporaries(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_forked_renderers_write_the_site_one_process_writes(
        store: SqlEventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    models, settings = two_language_site(store)
    monkeypatch.setattr(documents, "FORK_FEEDS_FROM", 10**9)
    monkeypatch.setattr(builder, "FORK_FROM", 10**9)
    alone = documents.export_site(settings, models, tmp_path / "alone", sources=[pages])

    monkeypatch.setattr(documents, "FORK_FEEDS_FROM", 1)
    monkeypatch.setattr(builder, "FORK_FROM", 1)
    sent: list[Document] = []   # what the children sent back

    def recorded(calls: list[Callable[[], list[Document]]],
                 after_fork: Callable[[], None]) -> list[list[Document]]:
        results = forked.in_processes(calls, after_fork)
        sent.extend(document for part in results[1:] for document in part)
        return results

    monkeypatch.setattr(documents, "in_processes", recorded)
    monkeypatch.setattr(builder, "in_processes", recorded)
    out = tmp_path / "forked"
    report = documents.export_site(settings, models, out, sources=[pages])
    assert any(d.path.startswith("/mn/milestones/") for d in sent)
    assert any(d.path.startswith("/feeds/") for d in sent)
    assert all(isinstance(d, StagedDocument) and d.body == b"" and d.temp for d in sent)
    assert (report.written, report.size) == (alone.written, alone.size)
    assert site(out) == site(tmp_path / "alone")
    assert (out / MANIFEST).read_bytes() == (tmp_path / "alone" / MANIFEST).read_bytes()

    before = {path: os.stat(out / path).st_ino for path in site(out)}
    sent.clear()
    again = documents.export_site(settings, models, out, sources=[pages])
    assert (again.written, again.unchanged) == ([], alone.written)   # compared in the children
    assert all(isinstance(d, StagedDocument) and not d.written and not d.temp for d in sent)
    assert {path: os.stat(out / path).st_ino for path in site(out)} == before
    assert not temporaries(out)


def page(path: str) -> Document:
    return Document(path, f"<p>{path}</p>".encode(), "text/html",
                    dt.datetime(2026, 12, 6, tzinfo=dt.UTC))


def test_a_document_a_child_may_not_write_fails_here_and_leaves_nothing(
        tmp_path: Path) -> None:
    """The child's document leads out of the site: the child drops the files it wrote and
    sends its documents whole, and this process refuses it as it always has (ValueError),
    dropping its own files and those of children that succeeded."""
    out = tmp_path / "site"
    writer = SiteWriter(out)
    with pytest.raises(ValueError, match="leaves the export directory"), writer.rendering():
        parts = forked.in_processes([lambda: [page("/a/index.html")],
                                     lambda: [page("/b/index.html")],
                                     lambda: [page("/c/index.html"), page("/../out.html")]])
        assert isinstance(parts[1][0], StagedDocument) and parts[1][0].temp
        assert not isinstance(parts[2][0], StagedDocument)
        writer.write_all([document for part in parts for document in part])
    assert not temporaries(out) and not site(out)
    assert not (tmp_path / "out.html").exists()


def test_a_child_whose_result_is_not_received_leaves_no_file(tmp_path: Path) -> None:
    """This process fails after a child wrote its file: the child's temporary file (named
    by its pid) is removed with this process's own."""
    out = tmp_path / "site"
    writer = SiteWriter(out)

    def fails_once_the_child_wrote() -> list[Document]:
        for _ in range(1000):
            if temporaries(out / "b"):
                raise RuntimeError("a template is broken")
            time.sleep(0.01)
        raise AssertionError("the child wrote nothing")

    with pytest.raises(RuntimeError, match="a template is broken"), writer.rendering():
        forked.in_processes([fails_once_the_child_wrote, lambda: [page("/b/index.html")]])
    assert not temporaries(out) and not site(out)
