"""Two `chronicle serve` replicas on one PostgreSQL database, behind the shipped nginx.conf.

A dedicated database per module (not a schema of the shared one) lets the outage test refuse
every connection to it — `ALLOW_CONNECTIONS false` binds superusers too — and terminate the
replicas' sessions, without touching the shared server. Tests that break things come last.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from chronicle.store import SqlEventStore, open_store
from chronicle.upcasters import UPCASTERS
from tests.conftest import REPO, run_cli
from tests.test_feeds_support import (
    Server,
    free_port,
    milestone,
    record_all,
    start_server,
    wait_until,
    write_config,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
DEPLOY = REPO / "config" / "deploy"


@dataclass
class Cluster:
    url: str
    database: str
    admin: sa.Engine
    store: SqlEventStore
    replicas: list[Server]
    tmp: Path


@pytest.fixture(scope="module")
def cluster(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    database = f"chronicle_repl_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {database}")
    url = sa.make_url(postgres_server).set(database=database).render_as_string(
        hide_password=False)
    tmp = tmp_path_factory.mktemp("replicas")
    store = open_store(url, upcasters=UPCASTERS)
    record_all(store, [milestone(n) for n in range(3)])
    replicas: list[Server] = []
    try:
        for name in ("a", "b"):
            (tmp / name).mkdir()
            port = free_port()
            config = write_config(tmp / name, port, poll_seconds=0.5)
            replicas.append(start_server(config, url, port, tmp / f"{name}.log"))
        for replica in replicas:
            replica.wait_healthy()
        yield Cluster(url, database, admin, store, replicas, tmp)
    finally:
        for replica in replicas:
            replica.stop()
        store.close()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        admin.dispose()


def feed_ids(server: Server) -> set[str]:
    answer = server.get("/feeds/milestones.json")
    assert answer.status_code == 200
    return {item["id"].rsplit("/", 1)[-1] for item in answer.json()["items"]}


def served_everywhere(cluster: Cluster, milestone_id: str) -> bool:
    head = cluster.store.head()
    return all(milestone_id in feed_ids(r) and r.get("/healthz").json()["position"] == head
               for r in cluster.replicas)


def test_a_milestone_recorded_once_is_served_by_both_replicas(cluster: Cluster) -> None:
    assert all(feed_ids(r) == {f"feed-milestone-{n}" for n in range(3)}
               for r in cluster.replicas)
    record_all(cluster.store, [milestone(10)])
    wait_until(lambda: served_everywhere(cluster, "feed-milestone-10"), 10,
               "both replicas serve the new milestone within seconds")


def _cut_off(cluster: Cluster, seconds: float) -> list[list[int]]:
    """Refuse and terminate every connection to the database for `seconds`; meanwhile
    record what each replica's /healthz and main feed answer."""
    seen: list[list[int]] = [[], []]
    with cluster.admin.connect() as conn:
        conn.exec_driver_sql(f"ALTER DATABASE {cluster.database} ALLOW_CONNECTIONS false")
        try:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE datname = :db AND pid <> pg_backend_pid()"),
                             {"db": cluster.database})
                for index, replica in enumerate(cluster.replicas):
                    seen[index].append(replica.get("/healthz").status_code)
                    assert replica.get("/feeds/milestones.atom").status_code == 200
                time.sleep(0.2)
        finally:
            conn.exec_driver_sql(f"ALTER DATABASE {cluster.database} ALLOW_CONNECTIONS true")
    return seen


def test_both_replicas_recover_from_a_database_outage_without_restart(cluster: Cluster) -> None:
    pids = [r.process.pid for r in cluster.replicas]
    seen = _cut_off(cluster, 4.0)
    assert all(503 in statuses for statuses in seen), f"/healthz during the outage: {seen}"
    for replica in cluster.replicas:
        replica.wait_healthy(timeout=30)
    record_all(cluster.store, [milestone(11)])
    wait_until(lambda: served_everywhere(cluster, "feed-milestone-11"), 15,
               "both replicas follow the log again after the outage")
    assert [r.process.pid for r in cluster.replicas] == pids
    assert all(r.process.poll() is None for r in cluster.replicas)
    assert all("database reachable again" in r.log() for r in cluster.replicas)


def _nginx_config(cluster: Cluster, port: int, site: Path) -> Path:
    """The shipped nginx.conf, pointed at the test's ports and directories."""
    a, b = (r.base.removeprefix("http://") for r in cluster.replicas)
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    for old, new in (("127.0.0.1:8001", a), ("127.0.0.1:8002", b),
                     ("/srv/chronicle/feeds", str(site)),
                     ("listen 80;", f"listen 127.0.0.1:{port};"), ("listen [::]:80;", ""),
                     ("/var/log/nginx/chronicle.access.log", str(cluster.tmp / "access.log"))):
        assert old in text, f"nginx.conf no longer contains {old!r}"
        text = text.replace(old, new)
    config = cluster.tmp / "nginx.conf"
    config.write_text(text, encoding="utf-8")
    return config


@pytest.fixture
def nginx(cluster: Cluster) -> Iterator[str]:
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                       else None)
    if binary is None:
        pytest.skip("nginx is not installed")
    site, port = cluster.tmp / "site", free_port()
    # Replica a's settings (its base URL): the export then holds the bytes a serves.
    exported = run_cli("--config", str(cluster.tmp / "a" / "chronicle.toml"), "--database-url",
                       cluster.url, "export", "--out", str(site))
    assert exported.code == 0, exported.stderr
    config = _nginx_config(cluster, port, site)
    globals_ = f"daemon off; pid {cluster.tmp / 'nginx.pid'}; error_log stderr;"
    if os.geteuid() == 0:
        globals_ += " user root;"  # the workers must read the test's private tmp directory
    process = subprocess.Popen([binary, "-p", str(cluster.tmp), "-c", str(config),
                                "-g", globals_], stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            return httpx.get(base + "/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(up, 15, "nginx answers")
        yield base
    finally:
        process.terminate()
        process.wait(10)


def test_nginx_serves_the_export_and_fails_over_between_replicas(
        cluster: Cluster, nginx: str) -> None:
    static = httpx.get(nginx + "/feeds/milestones.atom", timeout=5)
    direct = cluster.replicas[0].get("/feeds/milestones.atom")
    assert static.status_code == 200 and static.content == direct.content
    exported = cluster.tmp / "site" / "feeds" / "milestones.atom"
    stat = exported.stat()  # nginx's own ETag for a static file: "mtime-size" in hex
    assert static.headers["etag"] == f'"{int(stat.st_mtime):x}-{stat.st_size:x}"'
    assert static.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert static.headers["cache-control"] == "public, max-age=60"
    assert httpx.get(nginx + "/feeds/milestones.atom", timeout=5,
                     headers={"If-None-Match": static.headers["etag"]}).status_code == 304
    assert httpx.get(nginx + "/healthz/a", timeout=5).json()["status"] == "ok"

    assert cluster.replicas[1].stop() == 0  # the last test: replica b goes away for good
    answers = [httpx.get(nginx + "/healthz", timeout=5).status_code for _ in range(10)]
    assert answers == [200] * 10, "requests meant for b are retried on a"
    assert httpx.get(nginx + "/healthz/b", timeout=5).status_code == 502
