"""The database goes away under a running server, then comes back (PostgreSQL).

The outage is real: the server's role is refused new logins and its connections are
terminated (what a failover or a restart does to clients), then logins are allowed again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from chronicle.store import open_store
from tests.test_feeds_support import (
    free_port,
    milestone,
    record_all,
    start_server,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def server_role(postgres_server: str, postgres_url: str) -> Iterator[tuple[str, sa.Engine]]:
    """A login role of its own (so the outage touches nobody else), and an admin engine."""
    role = f"chronicle_outage_{uuid.uuid4().hex[:8]}"
    schema = parse_qs(urlsplit(postgres_url).query)["options"][0].split("=", 1)[1]
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD 'outage'")
        conn.exec_driver_sql(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {role}")
    parts = urlsplit(postgres_server)
    url = (f"{parts.scheme}://{role}:outage@{parts.hostname}:{parts.port or 5432}{parts.path}"
           f"?options=-csearch_path%3D{schema}")
    try:
        yield url, admin
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"ALTER ROLE {role} LOGIN")
            conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 f"WHERE usename = '{role}'")
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")
        admin.dispose()


def cut_off(admin: sa.Engine, url: str) -> None:
    role = urlsplit(url).username
    with admin.connect() as conn:
        conn.exec_driver_sql(f"ALTER ROLE {role} NOLOGIN")
        conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             f"WHERE usename = '{role}'")


def restore(admin: sa.Engine, url: str) -> None:
    with admin.connect() as conn:
        conn.exec_driver_sql(f"ALTER ROLE {urlsplit(url).username} LOGIN")


def test_database_down_keeps_feeds_and_recovers_by_itself(
        server_role: tuple[str, sa.Engine], tmp_path: Path) -> None:
    url, admin = server_role
    store = open_store(url)
    try:
        record_all(store, [milestone(n) for n in range(6)])
        port = free_port()
        server = start_server(write_config(tmp_path, port), url, port, tmp_path / "server.log")
        try:
            server.wait_healthy()
            good = server.get("/feeds/milestones.atom")
            assert good.status_code == 200

            cut_off(admin, url)
            wait_until(lambda: server.get("/healthz").status_code == 503, 15,
                       "/healthz did not report the outage")
            health = server.get("/healthz").json()
            assert health["database"]["reachable"] is False and health["database"]["error"]
            during = server.get("/feeds/milestones.atom")
            assert during.status_code == 200 and during.content == good.content
            assert server.get("/feeds/milestones.atom", headers={
                "If-None-Match": good.headers["etag"]}).status_code == 304
            assert "database_up 0.0" in server.get("/metrics").text

            restore(admin, url)
            wait_until(lambda: server.get("/healthz").status_code == 200, 30,
                       f"no recovery after the database came back:\n{server.log()}")
            record_all(store, [milestone(50, title="After the outage")])
            wait_until(lambda: b"feed-milestone-50" in server.get(
                "/feeds/milestones.atom").content, 10, "no new entries after recovery")
            assert server.stop() == 0
            log = server.log()
            assert "serving the last documents" in log and "reachable again" in log
        finally:
            server.stop()
    finally:
        store.close()
