"""Shared files (chronicle.files): one holder of a lock at a time, whole files or none."""

from __future__ import annotations

import errno
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from chronicle import files, forked
from chronicle.files import SYNCFS, AtomicBatch, FileLock, atomic_write, locked


def test_a_held_lock_refuses_a_second_holder_until_released(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    first, second = FileLock(path), FileLock(path)
    assert first.acquire(blocking=False) and first.held
    assert not second.acquire(blocking=False) and not second.held
    first.release()
    assert second.acquire(blocking=False)
    second.release()


def test_locked_holds_for_the_block_and_yields_the_file(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    with locked(path, "a+b") as handle:
        handle.write(b"line\n")
        assert not FileLock(path).acquire(blocking=False)
    assert path.read_bytes() == b"line\n"
    assert FileLock(path).acquire(blocking=False)


def test_atomic_write_replaces_whole_readable_files_and_leaves_no_temporary(tmp_path: Path
                                                                           ) -> None:
    target = tmp_path / "state" / "feed.json"
    atomic_write(target, b"one")
    atomic_write(target, b"two", mtime=1_000_000_000.0)
    assert target.read_bytes() == b"two"
    assert target.stat().st_mtime == 1_000_000_000.0
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["feed.json"]


def test_a_batch_replaces_nothing_until_every_file_is_durable(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    old = tmp_path / "site" / "old.html"
    atomic_write(old, b"old")
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        name = os.readlink(f"/proc/self/fd/{fd}")
        if name.endswith(".tmp"):
            assert old.read_bytes() == b"old", "a target was replaced before every fsync"
            synced.append(name)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with AtomicBatch(workers=4, sync_filesystem=None) as batch:
        batch.add(old, b"new", mtime=1_000_000_000.0)
        for n in range(20):
            batch.add(tmp_path / "site" / "deep" / f"{n}" / "index.html", f"{n}".encode())
        assert old.read_bytes() == b"old"
    assert len(synced) == 21
    assert old.read_bytes() == b"new" and old.stat().st_mtime == 1_000_000_000.0
    assert (tmp_path / "site/deep/7/index.html").read_bytes() == b"7"
    assert stat.S_IMODE(old.stat().st_mode) == 0o644
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_failed_fsync_replaces_nothing_and_leaves_no_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    atomic_write(first, b"a")
    atomic_write(second, b"b")
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(tmp_path / ".b.html.")):
            raise OSError(errno.EIO, "disk on fire")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with (pytest.raises(OSError, match="disk on fire"),
          AtomicBatch(workers=2, sync_filesystem=None) as batch):
        batch.add(first, b"A")
        batch.add(second, b"B")
    assert (first.read_bytes(), second.read_bytes()) == (b"a", b"b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "b.html"]


def test_a_failed_write_in_a_worker_replaces_nothing_and_closes_every_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool fills the temporary files: a full disk there surfaces at commit, every
    file still queued is closed, and no target is replaced."""
    targets = [tmp_path / f"{n}.html" for n in range(50)]
    for target in targets:
        atomic_write(target, b"old")
    real_write = os.write

    def write(fd: int, data: bytes | memoryview) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(tmp_path / ".7.html.")):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    open_before = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(os, "write", write)
    with (pytest.raises(OSError, match="No space left"),
          AtomicBatch(workers=3, sync_filesystem=None) as batch):
        for target in targets:
            batch.add(target, b"new" * 1000)
    assert len(os.listdir("/proc/self/fd")) == open_before
    assert {target.read_bytes() for target in targets} == {b"old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(t.name for t in targets)


def _tree(root: Path) -> dict[str, tuple[bytes, int, float]]:
    """Every file under `root`: its bytes, mode and modification time."""
    return {str(path.relative_to(root)): (path.read_bytes(), stat.S_IMODE(path.stat().st_mode),
                                          path.stat().st_mtime)
            for path in sorted(root.rglob("*")) if path.is_file()}


def _write_site(root: Path, batch: AtomicBatch) -> None:
    with batch:
        batch.add(root / "old.html", b"new", mtime=1_000_000_000.0)
        for n in range(20):
            batch.add(root / "deep" / f"{n}" / "index.html", f"{n}".encode() * n,
                      mtime=1_500_000_000.0 + n)


@pytest.mark.skipif(SYNCFS is None, reason="no syncfs(2) here")
def test_syncfs_runs_before_any_rename_and_after_them_all(tmp_path: Path) -> None:
    """Two syncfs calls for the batch: the first while every target still holds its old
    bytes and every temporary file its new ones, the second once all are renamed; the files
    are the same bytes, modes and times as the fsync path writes."""
    assert SYNCFS is not None
    real_syncfs = SYNCFS
    old = tmp_path / "syncfs" / "old.html"
    atomic_write(old, b"old")
    seen: list[tuple[bytes, int]] = []

    def syncfs(fd: int) -> None:
        seen.append((old.read_bytes(), len(list(tmp_path.rglob("*.tmp")))))
        real_syncfs(fd)

    _write_site(tmp_path / "syncfs", AtomicBatch(workers=4, sync_filesystem=syncfs))
    assert seen == [(b"old", 21), (b"new", 0)]
    atomic_write(tmp_path / "fsync" / "old.html", b"old")
    _write_site(tmp_path / "fsync", AtomicBatch(workers=4, sync_filesystem=None))
    assert _tree(tmp_path / "syncfs") == _tree(tmp_path / "fsync")
    assert len(_tree(tmp_path / "syncfs")) == 21


def test_a_failed_syncfs_replaces_nothing_and_says_what_failed(tmp_path: Path) -> None:
    """EIO from syncfs (a file could not be written back) fails the batch before any
    rename: old files intact, no temporary left, no directory left open."""
    old = tmp_path / "old.html"
    atomic_write(old, b"old")
    calls: list[int] = []

    def syncfs(fd: int) -> None:
        calls.append(fd)
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    open_before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(OSError, match=r"could not be made durable \(syncfs\): Input/output"
                       ) as failed:
        _write_site(tmp_path, AtomicBatch(workers=4, sync_filesystem=syncfs))
    assert failed.value.errno == errno.EIO and failed.value.filename == str(tmp_path)
    assert len(calls) == 1
    assert len(os.listdir("/proc/self/fd")) == open_before
    assert old.read_bytes() == b"old"
    assert _tree(tmp_path) == {"old.html": (b"old", 0o644, old.stat().st_mtime)}


def _wait_for(calls: list[object], count: int) -> None:
    deadline = time.monotonic() + 10
    while len(calls) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def test_early_syncs_run_while_files_are_added_and_the_commit_still_syncs_twice(
        tmp_path: Path) -> None:
    """`sync_early` syncs the filesystem in the background while files are being added
    (their bytes reach the disk while the site is rendered); the commit stops it and then
    makes its own two syncfs calls, before and after the renames."""
    old = tmp_path / "old.html"
    atomic_write(old, b"old")
    calls: list[tuple[bytes, bool]] = []

    def syncfs(fd: int) -> None:
        calls.append((old.read_bytes(), threading.current_thread().name == "early-syncfs"))
        if SYNCFS is not None:
            SYNCFS(fd)

    batch = AtomicBatch(workers=0, sync_filesystem=syncfs)
    batch.prepare(tmp_path)
    batch.sync_early(every=0.01)
    batch.add(old, b"new")
    _wait_for(calls, 2)
    assert calls[:2] == [(b"old", True), (b"old", True)]
    with batch:
        batch.add(tmp_path / "deep" / "index.html", b"deep")
    early = len([call for call in calls if call[1]])
    assert calls[early:] == [(b"old", False), (b"new", False)]
    assert not any(thread.name == "early-syncfs" for thread in threading.enumerate())
    assert old.read_bytes() == b"new" and (tmp_path / "deep" / "index.html").read_bytes() == b"deep"


def test_a_failed_early_sync_fails_the_commit_before_any_rename(tmp_path: Path) -> None:
    """syncfs reports a write-back error once per descriptor: when `sync_early`'s call is
    the one that hears it, the commit still fails and replaces nothing."""
    old = tmp_path / "old.html"
    atomic_write(old, b"old")
    calls: list[int] = []

    def syncfs(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    open_before = len(os.listdir("/proc/self/fd"))
    batch = AtomicBatch(workers=0, sync_filesystem=syncfs)
    batch.prepare(tmp_path)
    batch.sync_early(every=0.01)
    batch.add(old, b"new")
    _wait_for(calls, 1)
    with pytest.raises(OSError, match=r"could not be made durable \(syncfs\): Input/output"
                       ) as failed, batch:
        batch.add(tmp_path / "deep" / "index.html", b"deep")
    assert failed.value.errno == errno.EIO and failed.value.filename == str(tmp_path)
    assert len(os.listdir("/proc/self/fd")) == open_before
    assert _tree(tmp_path) == {"old.html": (b"old", 0o644, old.stat().st_mtime)}


def test_without_syncfs_the_batch_fsyncs_every_file_instead(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSYS from syncfs (a kernel without it) falls back to an fsync per temporary file
    before the renames, and per directory after them."""
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    def syncfs(fd: int) -> None:
        raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))

    monkeypatch.setattr(os, "fsync", fsync)
    _write_site(tmp_path, AtomicBatch(workers=4, sync_filesystem=syncfs))
    assert len([name for name in synced if name.endswith(".tmp")]) == 21
    assert str(tmp_path / "deep" / "7") in synced and str(tmp_path) in synced
    assert _tree(tmp_path)["deep/7/index.html"] == (b"7" * 7, 0o644, 1_500_000_007.0)
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_leftover_temporary_is_stepped_over_not_overwritten(tmp_path: Path) -> None:
    """Temporary names are the process and a counter: one left by a crashed run under the
    next name is kept as it was, and the target still gets its bytes."""
    target = tmp_path / "page.html"
    atomic_write(target, b"first")
    temporary = next(iter(files._TEMPORARIES))
    for n in range(temporary + 1, temporary + 4):
        (tmp_path / f".page.html.{os.getpid()}-{n}.tmp").write_bytes(b"crashed")
    atomic_write(target, b"second")
    assert target.read_bytes() == b"second"
    assert sorted(p.read_bytes() for p in tmp_path.glob("*.tmp")) == [b"crashed"] * 3


@pytest.mark.skipif(SYNCFS is None or not forked.can_fork(), reason="needs syncfs and fork")
def test_a_forked_child_writes_only_where_the_parents_syncfs_reaches(tmp_path: Path) -> None:
    """A child writes for its parent's batch on a filesystem the parent watched before the
    fork (the parent adopts the file and renames it); elsewhere (a tmpfs) it refuses, so the
    parent writes that file itself, watched."""
    other = Path("/dev/shm")
    if not other.is_dir() or other.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second filesystem to write to")
    elsewhere = other / f"chronicle-test-{os.getpid()}"
    with AtomicBatch() as batch:
        batch.prepare(tmp_path / "site")

        def child() -> list[tuple[str, str] | str]:
            batch.forked()
            batch.add(tmp_path / "site" / "a.txt", b"a", mtime=0)
            try:
                batch.add(elsewhere / "b.txt", b"b")
            except files.NotWatched:
                return [batch.staged[-1], "refused"]
            return [batch.staged[-1], "written"]

        staged, outcome = forked.in_processes([list, child])[1]
        assert outcome == "refused" and isinstance(staged, tuple)
        batch.adopt(*staged, [str(tmp_path / "site")])
        batch.add(elsewhere / "b.txt", b"b")
    try:
        assert (tmp_path / "site" / "a.txt").read_bytes() == b"a"
        assert (tmp_path / "site" / "a.txt").stat().st_mtime == 0
        assert (elsewhere / "b.txt").read_bytes() == b"b"
        assert os.listdir(tmp_path / "site") == ["a.txt"] and os.listdir(elsewhere) == ["b.txt"]
    finally:
        (elsewhere / "b.txt").unlink(missing_ok=True)
        elsewhere.rmdir()
