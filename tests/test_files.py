"""Shared files (chronicle.files): one holder of a lock at a time, whole files or none."""

from __future__ import annotations

import stat
from pathlib import Path

from chronicle.files import FileLock, atomic_write, locked


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
