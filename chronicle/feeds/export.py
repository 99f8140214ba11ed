"""Documents as files for static hosting: atomic, and only rewritten when their bytes change.

Files are laid out as the server's URL paths from the export directory (the site root):
/feeds/milestones.atom becomes DIR/feeds/milestones.atom, /milestones/<id>/index.html a
directory index, so any static server pointed at
DIR answers the same URLs with the same bytes. Each file's modification time is set to the
document's Last-Modified, so a static server's conditional GETs agree with ours too.
A manifest remembers what the last export wrote, so documents that no longer exist (a
tag nobody uses any more) are removed rather than left stale.

`SiteWriter.rendering` lets forked renderers (chronicle.forked) write their own documents'
temporary files, as they would be written here, and send back only their names
(`StagedDocument`): this process renames them with its own when every file is durable.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from chronicle import forked
from chronicle.feeds.model import Document
from chronicle.files import AtomicBatch, atomic_write, remove_temporaries

MANIFEST = ".chronicle-export.json"
PROGRESS_EVERY = 500   # documents between two progress reports


@dataclass
class ExportReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    size: int = 0       # bytes of every document, written or not

    def summary(self) -> str:
        return (f"{len(self.written)} written, {len(self.unchanged)} unchanged, "
                f"{len(self.removed)} removed")


@dataclass(frozen=True, slots=True)
class StagedDocument(Document):
    """A document already handed to the export's batch where it was rendered: its `body` is
    empty (the bytes are in the file), `written` says whether the file needed them, and a
    forked renderer's file waits in `temp` to be renamed over `target`."""

    written: bool = False
    size: int = 0       # of the document's body
    temp: str = ""
    target: str = ""


class SiteWriter:
    """Writes documents under one root directory."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._root_text = str(self.root)
        self._inside = os.path.join(self._root_text, "")   # what a path under the root starts with
        # Paths as strings: pathlib's objects cost more than the writing's system calls.
        self._directories: dict[str, tuple[str, bool]] = {}    # by relative path: resolved,
        #                                                       and whether it existed
        self._batch: AtomicBatch | None = None      # the batch the directories were seen for
        self._root_holds_files = True   # False: the root was new or empty when the batch began
        self._rendered: AtomicBatch | None = None   # `rendering`'s, for `write_all`

    def target(self, path: str) -> Path:
        """The file of a URL path: percent-escapes decoded, as static servers look files up."""
        return Path(self._located(path)[0])

    def _located(self, path: str) -> tuple[str, bool]:
        """`target`, and whether the file may already be there.

        Symbolic links are followed as `Path.resolve` follows them, one level at a time with
        each directory resolved once: a milestone's page has a directory of its own, and
        resolving every path whole (an lstat per level) was a third of the writing. A file
        in a directory that did not exist is not there: nothing to look at or compare."""
        target, present = self._resolved(unquote(path).lstrip("/"))
        if not target.startswith(self._inside):   # resolved; the root itself is not inside
            raise ValueError(f"document path {path!r} leaves the export directory")
        return target, present

    def _resolved(self, relative: str) -> tuple[str, bool]:
        """`root / relative`, resolved, and whether it exists (False: certainly not; in a
        root that was new or empty, nothing is: a first export looks at no file)."""
        parent, _, name = relative.rpartition("/")
        if name in ("", ".", ".."):
            return os.path.realpath(os.path.join(self.root, relative)), True
        directory, present = self._root_text, self._root_holds_files
        if parent:
            held = self._directories.get(parent)
            if held is None:
                held = self._directories[parent] = self._resolved(parent)
            directory, present = held
        resolved = os.path.join(directory, name)
        if not present:
            return resolved, False
        try:
            mode = os.lstat(resolved).st_mode
        except FileNotFoundError:
            return resolved, False
        except NotADirectoryError:
            return resolved, True   # reading or writing it will say so
        return (os.path.realpath(resolved), True) if stat.S_ISLNK(mode) else (resolved, True)

    def ancestors(self, target: str) -> list[str]:
        """The directories from `target`'s up to the root: those a forked renderer may have
        made or added a file to, for `AtomicBatch` to fsync where there is no syncfs."""
        directories = []
        directory = os.path.dirname(target)
        while directory.startswith(self._inside):
            directories.append(directory)
            directory = os.path.dirname(directory)
        return [*directories, self._root_text]

    def write(self, document: Document) -> bool:
        """Write one document unless the file already holds its bytes; True if written."""
        with AtomicBatch(workers=0, sync_filesystem=None) as batch:   # one file: an fsync
            return self.stage(document, batch)

    @contextlib.contextmanager
    def rendering(self) -> Iterator[None]:
        """Documents rendered in the block are written where they are made (see the module)
        for the block's `write_all` to commit; left uncommitted, their files are removed."""
        batch = self._rendered = AtomicBatch()
        try:
            self._begin(batch)
            batch.prepare(self.root)   # its filesystem watched before any child writes there
            batch.sync_early()   # the files go to disk as they are rendered
            with forked.handing_to(_Handing(self, batch)):
                yield
        finally:
            self._rendered = None
            batch.discard()   # nothing left once committed

    def _begin(self, batch: AtomicBatch) -> None:
        """Start writing for `batch`: what was missing may have been written since."""
        self._directories.clear()
        self._batch = batch
        self._root_holds_files = _holds_files(self.root)

    def stage(self, document: Document, batch: AtomicBatch) -> bool:
        """Add `document` to `batch` unless its file already holds its bytes; True if added."""
        if batch is not self._batch:
            self._begin(batch)
        target, present = self._located(document.path)
        if present:
            with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                if Path(target).read_bytes() == document.body:
                    return False
        batch.add(target, document.body, mtime=document.last_modified.timestamp())
        return True

    def write_all(self, documents: Iterable[Document],
                  progress: Callable[[int], None] | None = None) -> ExportReport:
        """Every document whose bytes changed, atomically (see `AtomicBatch`: all the files
        wait for the disk together); then stale files are removed and the manifest written.
        `progress` hears how many documents are done, now and then and at the end. Inside
        `rendering`, the files its renderers wrote are committed with these."""
        report = ExportReport()
        paths = []
        with self._rendered or AtomicBatch() as batch:
            self._rendered = None
            for document in documents:
                paths.append(document.path)
                if isinstance(document, StagedDocument):
                    written, size = document.written, document.size
                else:
                    written, size = self.stage(document, batch), len(document.body)
                (report.written if written else report.unchanged).append(document.path)
                report.size += size
                if progress is not None and len(paths) % PROGRESS_EVERY == 0:
                    progress(len(paths))
        if progress is not None:
            progress(len(paths))
        for stale in sorted(set(self._previous_paths()) - set(paths)):
            with contextlib.suppress(FileNotFoundError):
                self.target(stale).unlink()
                report.removed.append(stale)
        manifest = json.dumps({"paths": sorted(paths)}, indent=1).encode() + b"\n"
        if self._read_manifest_bytes() != manifest:
            atomic_write(self.root / MANIFEST, manifest)
        return report
    def _read_manifest_bytes(self) -> bytes | None:
        try:
            return (self.root / MANIFEST).read_bytes()
        except FileNotFoundError:
            return None

    def _previous_paths(self) -> list[str]:
        raw = self._read_manifest_bytes()
        if raw is None:
            return []
        try:
            paths = json.loads(raw).get("paths", [])
        except (ValueError, AttributeError):
            return []  # a damaged manifest only means stale files stay
        return [p for p in paths if isinstance(p, str)]


class _Handing:
    """The export's `forked.Sink`: a part's documents are staged in the process that rendered
    it (a child's temporary files adopted here as they arrive), and `StagedDocument`s pass."""

    def __init__(self, writer: SiteWriter, batch: AtomicBatch) -> None:
        self.writer, self.batch, self.pid = writer, batch, os.getpid()

    def made(self, items: list[Any]) -> list[Any]:
        if os.getpid() == self.pid:
            return [self._staged(item, child=False) for item in items]
        self.batch.forked()
        since = len(self.batch.staged)
        try:
            return [self._staged(item, child=True) for item in items]
        except Exception:   # the parent writes them, and raises what it meets (as before)
            self.batch.unstage(since)
            return items

    def _staged(self, item: Any, *, child: bool) -> Any:
        if not isinstance(item, Document) or isinstance(item, StagedDocument):
            return item
        written = self.writer.stage(item, self.batch)
        temp, target = self.batch.staged[-1] if written and child else ("", "")
        return StagedDocument(item.path, b"", item.media_type, item.last_modified, item.route,
                              item.status, written=written, size=len(item.body), temp=temp,
                              target=target)

    def received(self, items: list[Any]) -> None:
        if os.getpid() != self.pid:
            return   # a child's child: its parent sends them on
        for item in items:
            if isinstance(item, StagedDocument) and item.temp:
                self.batch.adopt(item.temp, item.target, self.writer.ancestors(item.target))

    def abandoned(self, pid: int) -> None:
        """Remove the temporary files a child that failed or was killed may have left: a
        walk of the site, only when an export fails."""
        remove_temporaries(self.writer.root, pid)


def _holds_files(root: Path) -> bool:
    """Whether `root` is a directory with something in it (or not a directory at all)."""
    try:
        with os.scandir(root) as entries:
            return next(entries, None) is not None
    except FileNotFoundError:
        return False
    except NotADirectoryError:
        return True   # writing under it will say so
