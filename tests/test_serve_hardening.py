"""HTTP hardening: security headers, HEAD, redirects that ignore Host, /metrics restriction,
and a bound on request headers (the real uvicorn server on a loopback port)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn
from pydantic import ValidationError

from chronicle.config import Settings
from chronicle.store import SqlEventStore
from chronicle.web import create_app
from chronicle.web.hardening import CONTENT_SECURITY_POLICY, relative_location
from chronicle.web.limits import (
    MAX_REQUEST_HEAD_BYTES,
    BoundedHttpToolsProtocol,
    server_options,
)
from tests.test_feeds_support import milestone, record_all, retract_one
from tests.test_serve_http import Client


def serving(store: SqlEventStore, db_url: str, retracted: str | None = None,
            **server: object) -> Client:
    record_all(store, [milestone(n) for n in range(2)])
    if retracted:
        retract_one(store, retracted)
    settings = Settings(database_url=db_url, server={"poll_seconds": 0.1, **server})
    return Client(create_app(settings, store))


@pytest.fixture
def client(store: SqlEventStore, db_url: str) -> Iterator[Client]:
    with serving(store, db_url) as client:
        yield client


def test_every_answer_carries_the_security_headers(store: SqlEventStore, db_url: str) -> None:
    """Including the answers of the page and document layers themselves (a page's 404 and
    410, a 405), which sit in front of the hardening layer."""
    asked = [("GET", path) for path in (
        "/", "/feeds/milestones.atom", "/healthz", "/metrics", "/no-such-page",
        "/milestones/no-such/", "/mn/tags/no-such/", "/milestones/feed-milestone-0/",
        "/milestones/feed-milestone-1/")]
    asked += [("POST", "/milestones/feed-milestone-1/"), ("POST", "/feeds/milestones.atom"),
              ("HEAD", "/milestones/no-such/")]
    with serving(store, db_url, retracted="feed-milestone-0") as client:
        answers = {(method, path): client.request(method, path) for method, path in asked}
    assert {key: answer.status_code for key, answer in answers.items()
            if answer.status_code != 200} == {
        ("GET", "/no-such-page"): 404, ("GET", "/milestones/no-such/"): 404,
        ("GET", "/mn/tags/no-such/"): 404, ("GET", "/milestones/feed-milestone-0/"): 410,
        ("POST", "/milestones/feed-milestone-1/"): 405, ("POST", "/feeds/milestones.atom"): 405,
        ("HEAD", "/milestones/no-such/"): 404}
    for path, answer in answers.items():
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin", path
        assert answer.headers["x-frame-options"] == "DENY", path


def test_head_works_on_healthz_and_metrics(client: Client) -> None:
    for path in ("/healthz", "/metrics"):
        got, head = client.get(path), client.head(path)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"]


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_redirects_never_take_their_host_from_the_host_header(client: Client, path: str) -> None:
    answer = client.get(f"{path}/?x=1", headers={"host": "evil.example"},
                        follow_redirects=False)
    assert answer.is_redirect and answer.headers["location"] == f"{path}?x=1"


def test_a_rewritten_location_is_never_protocol_relative() -> None:
    scope = {"scheme": "http", "headers": [(b"host", b"Evil.example")], "server": None}
    assert relative_location(b"http://evil.example//other.example/x", scope) == b"/other.example/x"
    assert relative_location(b"https://chronicle.example.org/a", scope) == (
        b"https://chronicle.example.org/a"), "a configured or external host is kept"


def test_metrics_can_be_restricted_to_networks(store: SqlEventStore, db_url: str) -> None:
    with serving(store, db_url, metrics_allow=["10.0.0.0/8", "::1/128"]) as client:
        refused = client.get("/metrics")  # httpx's ASGI transport comes from 127.0.0.1
        assert refused.status_code == 403 and "chronicle_" not in refused.text
        assert client.get("/healthz").status_code == 200
    with Client(create_app(Settings(database_url=db_url,
                                    server={"metrics_allow": ["127.0.0.1/32"]}), store)) as client:
        assert client.get("/metrics").status_code == 200
    with pytest.raises(ValidationError, match="not a network"):
        Settings(server={"metrics_allow": ["localhost"]})


async def _app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
    assert scope["type"] in ("http", "lifespan")
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200,  # type: ignore[operator]
                    "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]


def _exchange(port: int, request: bytes) -> bytes:
    """The server's answer; b"reset" when it closed while data of ours was still unread."""
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(request)
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (BrokenPipeError, ConnectionResetError):
            return b"".join(chunks) or b"reset"
    return b"".join(chunks)


@contextmanager
def uvicorn_serving(app: Any, protocol: type[BoundedHttpToolsProtocol] = BoundedHttpToolsProtocol,
                    **config: Any) -> Iterator[int]:
    """`app` served by a real uvicorn in a thread, as `chronicle serve` configures it; the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    options = {"log_config": None, "server_header": False, "access_log": False, **config}
    server = uvicorn.Server(uvicorn.Config(app, **server_options(protocol), **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


def test_request_headers_are_bounded_by_the_server() -> None:
    with uvicorn_serving(_app, lifespan="off") as port:
        small = _exchange(port, b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        assert small.startswith(b"HTTP/1.1 200")
        huge = b"x" * (4 * MAX_REQUEST_HEAD_BYTES)
        answer = _exchange(port, b"GET / HTTP/1.1\r\nhost: x\r\nx-big: " + huge + b"\r\n\r\n")
        # Refused: the 431 arrives, unless the close reset the connection before it was read.
        assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large") or (
            answer == b"reset"), answer[:60]
