"""Online backups of the SQLite default with SQLite's own backup API.

A file copy of a live WAL database can catch the main file and its -wal at different moments;
the backup API reads one consistent snapshot inside a read transaction, and in WAL mode that
never blocks the service's writers. The copy is written beside the destination, checked (page
structure and hash chain), and only then renamed into place.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from chronicle.replication.rows import ChainBroken, ReplicationError
from chronicle.store import open_store
from chronicle.store.engine import mask_url, normalize_url
from chronicle.store.schema import TABLE_NAME
from chronicle.store.upcasting import NO_UPCASTERS

PG_DUMP_HINT = ("back PostgreSQL up with its own tools: pg_dump --format=custom (restore with "
                "pg_restore, then run chronicle verify) — see 'Deployment: two replicas on "
                "PostgreSQL' in the README")


class BackupFailed(ReplicationError):
    """The backup could not be written (disk, permissions): a failure, not bad input."""


class NotSqlite(ReplicationError):
    """`backup` only knows SQLite; PostgreSQL has pg_dump."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    events: int
    head: int
    size: int
    seconds: float


def sqlite_file(url: str) -> Path:
    """The database file behind a SQLite URL; refuses other databases and in-memory ones."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite":
        raise NotSqlite(f"chronicle backup works on the SQLite default only, and "
                        f"{mask_url(url)} is {parsed.get_backend_name()}: {PG_DUMP_HINT}")
    if not parsed.database or parsed.database == ":memory:":
        raise ReplicationError("an in-memory database cannot be backed up")
    path = Path(parsed.database)
    if not path.is_file():
        raise ReplicationError(f"{path}: no such database file")
    return path


def backup_sqlite(url: str, destination: Path, *, overwrite: bool = False) -> BackupReport:
    """Snapshot the live database into `destination`, then open and verify the snapshot."""
    started = time.perf_counter()
    source = sqlite_file(url)
    if destination.is_dir():
        raise ReplicationError(f"{destination} is a directory: name the backup file to write "
                               f"(e.g. {destination / 'chronicle.db'})")
    if not destination.parent.is_dir():
        raise ReplicationError(f"{destination.parent}: no such directory for the backup")
    if destination.exists() and not overwrite:
        raise ReplicationError(f"{destination} already exists (pass --overwrite to replace it)")
    if destination.resolve() == source.resolve():
        raise ReplicationError("the backup cannot replace the database it copies")
    partial = destination.with_name(destination.name + ".partial")
    _remove(partial)
    try:
        _snapshot(source, partial)
        events, head = _verify(partial)
        os.replace(partial, destination)
    except (OSError, sqlite3.Error) as exc:
        raise BackupFailed(f"backup NOT written to {destination}: {exc}") from None
    finally:
        _remove(partial)
    return BackupReport(path=destination, events=events, head=head,
                        size=destination.stat().st_size, seconds=time.perf_counter() - started)


def _snapshot(source: Path, partial: Path) -> None:
    # Read-only, so a mistyped path is never created as an empty database.
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
    dst = sqlite3.connect(partial)
    try:
        tables = {name for (name,) in src.execute("SELECT name FROM sqlite_master")}
        if TABLE_NAME not in tables:
            raise ReplicationError(f"{source} is not a chronicle database (no {TABLE_NAME})")
        src.backup(dst)  # pages=-1: the whole database in one step, one consistent snapshot
        (result,) = dst.execute("PRAGMA quick_check").fetchone()
        if result != "ok":
            raise ReplicationError(f"the backup failed SQLite's quick_check: {result}")
    finally:
        dst.close()
        src.close()


def _verify(path: Path) -> tuple[int, int]:
    store = open_store(f"sqlite:///{path}", migrate_schema=False, upcasters=NO_UPCASTERS)
    try:
        report = store.verify()
    finally:
        store.close()
    if not report.ok:
        raise ChainBroken(report.first_bad_position or 0,
                          f"the backup does not verify: {report.reason}")
    return report.checked, report.head


def _remove(path: Path) -> None:
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
