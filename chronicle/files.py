"""Files several processes share: exclusive locks, and writes a reader never sees half done.

`locked(path)` holds an exclusive ``flock`` for a block (the outbox, the WebSub state, SQLite
migrations); `FileLock` holds one for longer, or only if it is free (the scheduler's
leadership beside a SQLite database). The lock belongs to the open file, so a process that
dies releases it. `atomic_write` replaces a file through a temporary one, fsyncing the data
and then the directory entry, so a crash leaves the old file or the new one.

This module imports nothing from chronicle, so every layer may use it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

__all__ = ["FILE_MODE", "FileLock", "atomic_write", "fsync_dir", "locked"]

FILE_MODE = 0o644   # what a web server serving the file, or another user, may read


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
                 mode: int = FILE_MODE, sync_dir: bool = True) -> None:
    """Readers see the old file or the new one, never a part: a temporary file beside the
    target, fsynced, renamed over it, and the directory fsynced so the rename survives a crash
    (`sync_dir=False`: the caller fsyncs the directories once, after writing many files).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)  # mkstemp makes 0600
        if mtime is not None:
            os.utime(temp, (mtime, mtime))
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    if sync_dir:
        fsync_dir(target.parent)


def fsync_dir(directory: Path) -> None:
    """Make a directory's entries (a new or renamed file) durable too."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
