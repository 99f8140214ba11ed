"""Where a measurement writes: a fresh SQLite file or a fresh PostgreSQL schema, then cleanup.

Every contender gets its own empty database per run, so none of them pays for another's rows.
"""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from chronicle.store.engine import normalize_url

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True, slots=True)
class Place:
    """One empty database: a URL for our store plus what the other clients need."""

    kind: str                       # "sqlite" | "postgresql"
    url: str                        # for open_store (search_path set on PostgreSQL)
    path: Path | None = None        # SQLite file
    schema: str | None = None       # PostgreSQL schema
    server: URL | None = None       # PostgreSQL server URL, without the schema

    def psycopg_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for psycopg.connect, with the schema first on the search path."""
        assert self.server is not None and self.schema is not None
        return {"host": self.server.host or "127.0.0.1", "port": self.server.port or 5432,
                "user": self.server.username or "postgres", "password": self.server.password or "",
                "dbname": self.server.database or "postgres",
                "options": f"-csearch_path={self.schema}"}


class SqliteSite:
    """Fresh database files under one directory (WAL, synchronous=FULL for every client)."""

    kind = "sqlite"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._names = itertools.count(1)

    @contextlib.contextmanager
    def fresh(self, label: str) -> Iterator[Place]:
        path = self.directory / f"{label}-{next(self._names)}.db"
        try:
            yield Place("sqlite", f"sqlite:///{path}", path=path)
        finally:
            for suffix in ("", "-wal", "-shm", ".migrate-lock"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


class PostgresSite:
    """Fresh schemas named bench_<random> in the given database, dropped after each use."""

    kind = "postgresql"

    def __init__(self, url: str) -> None:
        self.server = make_url(normalize_url(url))
        self.admin = sa.create_engine(self.server, connect_args={"connect_timeout": 5})

    def check(self) -> None:
        """Raise if the server cannot be reached, before any measurement starts."""
        with self.admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    @contextlib.contextmanager
    def fresh(self, label: str) -> Iterator[Place]:
        schema = f"bench_{label.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        with self.admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        url = self.server.render_as_string(hide_password=False)
        try:
            yield Place("postgresql", f"{url}?options=-csearch_path%3D{schema}", schema=schema,
                        server=self.server)
        finally:
            with self.admin.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")

    def close(self) -> None:
        self.admin.dispose()


Site = SqliteSite | PostgresSite
