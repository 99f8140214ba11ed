"""Shared fixtures: one parametrised database fixture runs store tests on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

import chronicle.upcasters  # noqa: F401 - registers the domain's upcasters, open_store's default
from chronicle.projections import ReadModels
from chronicle.store import SqlEventStore, open_store

pytest_plugins = ["tests.skip_policy",  # in CI, a skip not in tests/declared_skips.toml fails
                  "tests.xdist_order"]  # under `-n 2 --dist loadfile`, the longest modules first

REPO = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("CHRONICLE_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("CHRONICLE_REQUIRE_POSTGRES") == "1"

if os.environ.get("PYTEST_XDIST_WORKER"):
    # A `pytest -n 2` worker starts with COLUMNS=80 and LINES=24 that a serial run never has;
    # the CLI's module-level rich consoles would freeze that width at import, so in-process CLI
    # tests (CliRunner, COLUMNS=200) would see an 80-column table. Tests set widths themselves.
    for _name in ("COLUMNS", "LINES"):
        os.environ.pop(_name, None)


def _postgres_reachable() -> str | None:
    engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return None
    except sa.exc.OperationalError as exc:
        return str(exc.orig).splitlines()[0]
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The real PostgreSQL; skipped when down, unless CHRONICLE_REQUIRE_POSTGRES=1 (CI)."""
    problem = _postgres_reachable()
    if problem:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but unreachable at {POSTGRES_URL}: {problem}")
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}: {problem}")
    return POSTGRES_URL


@contextmanager
def fresh_schema(server_url: str, prefix: str = "t") -> Iterator[str]:
    """A new, empty schema, selected through the connection's search_path; dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield f"{server_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh schema per test."""
    with fresh_schema(postgres_server) as url:
        yield url


@pytest.fixture
def postgres_database_url(postgres_server: str) -> Iterator[str]:
    """A fresh database of its own, for a test that sees database-wide state (NOTIFY channels):
    under `pytest -n 2` the other worker's schemas share the server's `test` database."""
    database = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {database}")
    try:
        yield sa.make_url(postgres_server).set(database=database).render_as_string(
            hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'chronicle.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The one parametrised database fixture: a fresh, empty database of each kind."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def cold(db_url: str) -> Iterator[ReadModels]:
    """The same database through a second engine: a from-scratch render (nothing memoised)."""
    other = open_store(db_url)
    try:
        yield ReadModels(other.engine)
    finally:
        other.close()


@pytest.fixture
def store(db_url: str) -> Iterator[SqlEventStore]:
    opened = open_store(db_url)
    yield opened
    checked_out = opened.engine.pool.checkedout()  # type: ignore[attr-defined]
    opened.close()
    assert checked_out == 0, f"{checked_out} connection(s) leaked"


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 120, input_text: str | None = None) -> CliResult:
    """Run the real `chronicle` command in a subprocess, as a user or a script would."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "chronicle", *args], capture_output=True,
                          text=True, env=full_env, cwd=cwd or REPO, timeout=timeout,
                          input=input_text, check=False)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli() -> object:
    return run_cli
