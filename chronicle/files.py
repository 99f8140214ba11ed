"""Files several processes share: exclusive locks, and writes a reader never sees half done.

`locked(path)` holds an exclusive ``flock`` for a block (the outbox, the WebSub state, SQLite
migrations); `FileLock` holds one for longer, or only if it is free (the scheduler's
leadership beside a SQLite database). The lock belongs to the open file, so a process that
dies releases it. `atomic_write` replaces a file through a temporary one, fsyncing the data
and then the directory entry, so a crash leaves the old file or the new one; `AtomicBatch`
does the same for thousands of files (the static export) with two `syncfs(2)` calls in place
of an fsync per file and per directory, where Linux offers it.

This module imports nothing from chronicle, so every layer may use it.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import itertools
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, NoReturn, cast

__all__ = ["FILE_MODE", "AtomicBatch", "FileLock", "NotWatched", "atomic_write", "fsync_dir",
           "fsync_path", "locked", "remove_temporaries"]

FILE_MODE = 0o644   # what a web server serving the file, or another user, may read
IN_FLIGHT = 256     # temporary files an AtomicBatch holds open, waiting for a worker
EARLY_SYNC_EVERY = 1.0   # seconds between two of `AtomicBatch.sync_early`'s syncfs calls

SyncFilesystem = Callable[[int], None]
"""Make durable everything written to the filesystem holding an open descriptor, or raise
OSError (`syncfs`)."""


def _libc_syncfs() -> SyncFilesystem | None:
    """Linux's `syncfs(2)` through ctypes, or None where there is none to call."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int

    def syncfs(fd: int) -> None:
        if function(fd) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))

    return syncfs


SYNCFS: SyncFilesystem | None = _libc_syncfs()


class FileLock:
    """An exclusive lock on ``path`` (created if missing), from `acquire` to `release`."""

    def __init__(self, path: Path | str, mode: str = "ab") -> None:
        self.path = Path(path)
        self.mode = mode
        self.handle: BinaryIO | None = None

    def acquire(self, *, blocking: bool = True) -> bool:
        """Take the lock (waiting for it, unless not `blocking`); False if another holds it."""
        if self.handle is not None:
            return True
        handle = cast(BinaryIO, self.path.open(self.mode))
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.close()
            return False
        except BaseException:
            handle.close()
            raise
        self.handle = handle
        return True

    @property
    def held(self) -> bool:
        return self.handle is not None

    def release(self) -> None:
        handle, self.handle = self.handle, None
        if handle is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            finally:
                handle.close()


@contextlib.contextmanager
def locked(path: Path | str, mode: str = "ab") -> Iterator[BinaryIO]:
    """Hold an exclusive lock on ``path`` for the block; yields the file, open in ``mode``
    (``"a+b"`` to read and append to the locked file itself)."""
    lock = FileLock(path, mode)
    lock.acquire()
    assert lock.handle is not None
    try:
        yield lock.handle
    finally:
        lock.release()


def atomic_write(target: Path, body: bytes, *, mtime: float | None = None,
                 mode: int = FILE_MODE) -> None:
    """Readers see the old file or the new one, never a part: a temporary file beside the
    target, fsynced, renamed over it, and the directory fsynced so the rename survives a crash.
    """
    with AtomicBatch(workers=0, sync_filesystem=None) as batch:
        batch.add(target, body, mtime=mtime, mode=mode)


class NotWatched(Exception):
    """A forked child was asked to write where its parent's syncfs would not make the file
    durable: the parent writes that one itself."""


class AtomicBatch:
    """Many atomic writes that wait for the disk together: the same guarantee as `atomic_write`
    for every file, at a fraction of the cost when there are thousands of them.

    `add` creates a temporary file beside its target (nothing a reader looks at) and writes its
    body; `commit` makes every temporary file durable, and only then renames them over their
    targets and makes the renames (and the new directories) durable. No target is replaced
    before its new bytes are durable, so a crash leaves every file whole, old or new (never torn
    or empty), and a failed sync replaces nothing. Leaving the block by an exception removes
    the temporary files and replaces nothing.

    With `sync_filesystem` (`syncfs(2)`, the default on Linux) the durability costs two calls
    per filesystem instead of an fsync per file and per directory: one syncfs before the
    renames (the kernel writes back every dirty page and inode of the filesystem and commits
    its journal, so every temporary file is on disk, data and mode and time), one after (the
    renames and new directory entries). This is as safe as the fsyncs: since Linux 5.8 syncfs
    reports a write-back error of the filesystem that happened after its descriptor was opened,
    and the descriptor of each filesystem is opened before the first file written to it, so an
    EIO or ENOSPC while writing back any of our files fails the first syncfs, before any rename.
    It may also report another program's failed write-back on that filesystem: a spurious
    failure, never a missed one. Where syncfs answers ENOSYS, `commit` fsyncs every temporary
    file and directory instead, as without it.
    Without `sync_filesystem` (or for one file: `atomic_write`, where syncing a whole filesystem
    would wait for others' writes) each file is fsynced by a pool of threads, so thousands of
    fsyncs in flight at once are committed by a few journal flushes.
    `workers=0` does its work in the calling thread (one file: no pool to start).

    Forked processes may write files for the batch (the static export's renderers): the
    parent `prepare`s the site's directory before forking, so its filesystem is watched; a
    child calls `forked`, and its `add` then writes only where the parent's syncfs will reach
    (else it raises `NotWatched`); the parent `adopt`s the temporary files it is told of.
    """

    def __init__(self, workers: int = 32,
                 sync_filesystem: SyncFilesystem | None = SYNCFS) -> None:
        self.pool = ThreadPoolExecutor(workers, "fsync") if workers else None
        self.sync_filesystem = sync_filesystem
        self.deferred = sync_filesystem is not None   # files written, not yet fsynced
        self.slots = threading.BoundedSemaphore(IN_FLIGHT)
        # Paths as strings: pathlib's objects were half the export's writing, in Python.
        self.staged: list[tuple[str, str]] = []     # temporary file, target
        self.synced: list[Future[None]] = []
        self.directories: set[str] = set()          # to fsync after the renames
        self.existing: dict[str, int] = {}          # directories there: their st_dev
        self.lock = threading.Lock()
        self.filesystems: dict[int, tuple[int, str]] = {}   # by st_dev: a directory, open
        self.owner = os.getpid()    # the process these fields describe
        self.for_parent = False     # True in a forked child: it writes files for its parent
        self._early: tuple[threading.Event, threading.Thread] | None = None   # sync_early's
        self._early_failure: tuple[OSError, str] | None = None   # its syncfs error, if any

    def __enter__(self) -> AtomicBatch:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()

    def add(self, target: Path | str, body: bytes, *, mtime: float | None = None,
            mode: int = FILE_MODE) -> None:
        """Write `body` for `target` (its directory made if missing); replaced at `commit`.

        With syncfs (or without a pool) the file is written here, durable only at `commit`:
        handing thousands of small writes to threads cost more in GIL hand-overs (a futex
        storm: 50 a file) than it saved. Otherwise a worker writes and fsyncs the temporary
        file (the fsync's wait overlaps the others'); a failure there is raised by `commit`,
        which replaces nothing. At most IN_FLIGHT files wait for a worker."""
        path = os.fspath(target)
        if self.pool is None or self.deferred:
            self._stage(path, body, mode, mtime)
            return
        self.slots.acquire()
        try:
            self.synced.append(self.pool.submit(self._staged_by_worker, path, body, mode,
                                                mtime))
        except BaseException:
            self.slots.release()
            raise

    def prepare(self, directory: Path | str) -> None:
        """Make `directory` (and its parents) now and watch its filesystem, before children
        are forked to write under it (see the class)."""
        self._make_directory(os.fspath(directory))

    def sync_early(self, every: float = EARLY_SYNC_EVERY) -> None:
        """Until `commit` or `discard`, syncfs the watched filesystems every `every` seconds
        in a thread: the files written so far (here or by forked children) reach the disk
        while more are rendered, so `commit`'s first syncfs waits only for the last ones
        rather than for the whole site at the end. Nothing is renamed any earlier: the
        guarantee is `commit`'s. An error is kept for `commit` to raise, as syncfs reports
        one write-back error only once per descriptor."""
        if self.sync_filesystem is None or self._early is not None:
            return
        stop = threading.Event()
        thread = threading.Thread(target=self._syncing_early,
                                  args=(self.sync_filesystem, stop, every),
                                  name="early-syncfs", daemon=True)
        self._early = stop, thread
        thread.start()

    def _syncing_early(self, sync: SyncFilesystem, stop: threading.Event, every: float) -> None:
        while not stop.wait(every):
            with self.lock:
                watched = list(self.filesystems.values())
            for fd, directory in watched:
                try:
                    sync(fd)
                except OSError as error:   # ENOSYS: `commit` finds it out again
                    if error.errno != errno.ENOSYS:
                        self._early_failure = error, directory
                    return

    def _stop_early(self) -> None:
        """End `sync_early`'s thread (before the descriptors it syncs are closed)."""
        early, self._early = self._early, None
        if early is not None:
            early[0].set()
            early[1].join()

    def forked(self) -> None:
        """Called in a forked child before its first `add`: its files are the parent's to
        rename, and only those on a filesystem the parent watches are written here."""
        if self.owner == os.getpid():
            return
        self.owner, self.for_parent = os.getpid(), True
        self.pool = self._early = None    # their threads stayed in the parent
        self.lock = threading.Lock()
        self.synced, self.staged = [], []

    def adopt(self, temp: str, target: str, directories: Iterable[str]) -> None:
        """A temporary file a forked child wrote for `target` (see `forked`): renamed at
        `commit`, or removed with the others; `directories` to fsync where syncfs is not."""
        self.staged.append((temp, target))
        self.directories.update(directories)

    def _staged_by_worker(self, target: str, body: bytes, mode: int,
                          mtime: float | None) -> None:
        try:
            self._stage(target, body, mode, mtime)
        finally:
            self.slots.release()

    def _stage(self, target: str, body: bytes, mode: int, mtime: float | None) -> None:
        """The temporary file of `target`, written (durable unless a syncfs will make it so)."""
        directory, name = os.path.split(target)
        directory = directory or os.curdir
        if self._make_directory(directory) not in self.filesystems and self.for_parent:
            raise NotWatched(f"{directory} is on a filesystem the parent's syncfs does not reach")
        fd, temp = _create_temporary(directory, name)
        try:
            _fill(fd, body, mode, mtime, durable=not self.deferred)
        except BaseException:
            _remove(temp)
            raise
        self.directories.add(directory)   # single calls: safe from several workers
        self.staged.append((temp, target))

    def _watch(self, directory: str, device: int) -> None:
        """Hold `directory` open if it is the first on its filesystem, before writing there:
        syncfs reports the write-back errors that happen after its descriptor was opened."""
        if (self.sync_filesystem is None or device in self.filesystems
                or self.for_parent):   # a child's descriptor would sync nothing
            return
        with self.lock:
            if device not in self.filesystems:
                self.filesystems[device] = (os.open(directory, os.O_RDONLY | os.O_DIRECTORY),
                                            directory)

    def commit(self) -> None:
        """Make every temporary file durable, then rename each over its target and make the
        renames durable; if a sync failed, nothing is replaced."""
        try:
            self._stop_early()
            for synced in self.synced:
                synced.result()
            if self.deferred and not self._sync_filesystems():
                self._each(fsync_path, [temp for temp, _target in self.staged])
            staged, self.staged = self.staged, []
            for index, (temp, target) in enumerate(staged):
                try:
                    os.replace(temp, target)
                except BaseException:
                    self.staged = staged[index:]
                    raise
            if not self._sync_filesystems():
                self._each(fsync_path, sorted(self.directories))
        except BaseException:
            self.discard()
            raise
        self._close()

    def _sync_filesystems(self) -> bool:
        """syncfs every filesystem written to; False if there is nothing to sync them with
        (no syncfs, or ENOSYS: the caller fsyncs instead). Other errors (EIO, ENOSPC: a file
        of ours, or another's on that filesystem, could not be written back) are raised,
        naming a directory on the failed filesystem."""
        if self.sync_filesystem is None:
            return False
        if self._early_failure is not None:
            _not_durable(*self._early_failure)
        for fd, directory in self.filesystems.values():
            try:
                self.sync_filesystem(fd)
            except OSError as error:
                if error.errno != errno.ENOSYS:
                    _not_durable(error, directory)
                self.sync_filesystem = None
                return False
        return True

    def discard(self) -> None:
        """Remove the temporary files not yet renamed."""
        self._close()
        self.unstage(0)

    def unstage(self, since: int) -> None:
        """Remove the temporary files staged from the `since`th on (a child's that failed)."""
        for temp, _target in self.staged[since:]:
            _remove(temp)
        del self.staged[since:]

    def _make_directory(self, directory: str) -> int:
        """`directory` and its missing parents (each parent that gains one is fsynced
        later); returns its filesystem's device, watched (`_watch`). Workers may make the
        same one at once: the loser's mkdir finds it there."""
        device = self.existing.get(directory)
        if device is not None:
            return device
        parent = os.path.dirname(directory) or os.curdir
        try:
            os.mkdir(directory)
        except FileNotFoundError:
            self._make_directory(parent)
            with contextlib.suppress(FileExistsError):
                os.mkdir(directory)
        except OSError:
            if not os.path.isdir(directory):
                raise
            device = os.stat(directory).st_dev   # there already: perhaps a mount point
        if device is None:    # made here, so on its parent's filesystem
            self.directories.add(parent)
            device = self._make_directory(parent)
        self._watch(directory, device)
        self.existing[directory] = device
        return device

    def _each(self, work: Callable[[str], None], paths: list[str]) -> None:
        if self.pool is None:
            for path in paths:
                work(path)
        else:
            for _ in self.pool.map(work, paths):
                pass

    def _close(self) -> None:
        self._stop_early()
        if self.pool is not None:
            self.pool.shutdown(wait=True)  # every queued file is closed by its task
            self.pool = None
        self.synced = []
        filesystems, self.filesystems = self.filesystems, {}
        for fd, _directory in filesystems.values():
            os.close(fd)


def _not_durable(error: OSError, directory: str) -> NoReturn:
    raise OSError(error.errno, "the written files could not be made durable "
                  f"(syncfs): {error.strerror}", str(directory)) from error


_TEMPORARIES = itertools.count()
_CREATE = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC   # as mkstemp


def _create_temporary(directory: str, name: str) -> tuple[int, str]:
    """A new file in `directory` for the next bytes of its file `name` (mode 0600 until
    filled), open.

    As `tempfile.mkstemp` makes it, named by the process and a counter rather than a random
    draw (a tenth of the export's writing): unique among the live writers, and a leftover of
    a crashed run with the same name is stepped over."""
    while True:
        temp = os.path.join(directory, f".{name}.{os.getpid()}-{next(_TEMPORARIES)}.tmp")
        with contextlib.suppress(FileExistsError):
            return os.open(temp, _CREATE, 0o600), temp


def remove_temporaries(root: Path | str, pid: int) -> None:
    """Remove under `root` the temporary files process `pid` made (`_create_temporary`'s
    names) and never renamed: a forked writer that failed or was killed."""
    ending = re.compile(rf"\.{pid}-\d+\.tmp\Z")
    for directory, _subdirectories, names in os.walk(root):
        for name in names:
            if name.startswith(".") and ending.search(name):
                _remove(os.path.join(directory, name))


def _fill(fd: int, body: bytes, mode: int, mtime: float | None, *,
          durable: bool = True) -> None:
    """Write `body` into the open temporary file `fd`, set its mode and time, make it
    durable (unless a syncfs will), and close it."""
    try:
        view = memoryview(body)
        while view:
            view = view[os.write(fd, view):]
        os.fchmod(fd, mode)  # mkstemp makes 0600
        if mtime is not None:
            os.utime(fd, (mtime, mtime))
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def fsync_path(path: Path | str) -> None:
    """Make a file's data, or a directory's entries (a new or renamed file), durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


fsync_dir = fsync_path   # the name its callers (the outbox) know it by
