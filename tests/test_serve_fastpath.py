"""Documents answered in uvicorn's protocol (chronicle.web.fastpath) are byte for byte what the
app answers through ASGI: two real uvicorn servers on loopback ports, one with the fast path
and one without, get the same raw requests; only the `date` header may differ."""

from __future__ import annotations

import datetime as dt
import logging
import re
import socket
import time
from collections.abc import Iterable
from typing import Any

import pytest
import time_machine
from starlette.types import ASGIApp, Receive, Scope, Send

from chronicle.config import Settings
from chronicle.store import SqlEventStore
from chronicle.web import create_app
from chronicle.web.fastpath import DocumentHttpToolsProtocol
from chronicle.web.limits import BoundedHttpToolsProtocol
from tests.test_feeds_support import milestone, record_all, retract_one
from tests.test_serve_hardening import uvicorn_serving

FEED = "/feeds/milestones.atom"
_DATE = re.compile(rb"\r\ndate: [^\r]*\r\n")


class Recorder:
    """The app, noting which requests reached it (the fast path's must not)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)


def exchange(port: int, raw: bytes) -> bytes:
    """Send `raw` (one request or several pipelined) and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(raw)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return _DATE.sub(b"\r\ndate: -\r\n", b"".join(chunks))


def kept_alive(port: int, raws: Iterable[bytes]) -> list[bytes]:
    """Send each of `raws` on one connection once the answer to the one before has arrived
    (each arrives alone, as a browser's or wrk's do): the answers, until the server closes."""
    answers = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        for raw in raws:
            conn.sendall(raw)
            answer = _answer(conn, head_only=raw.startswith(b"HEAD "))
            answers.append(_DATE.sub(b"\r\ndate: -\r\n", answer))
            if not answer or b"\r\nconnection: close\r\n" in answer:
                break
    return answers


def _answer(conn: socket.socket, head_only: bool) -> bytes:
    """One answer read from `conn`: its head, then the body its content-length announces."""
    data = b""
    while b"\r\n\r\n" not in data:
        if not (chunk := conn.recv(65536)):
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"\r\ncontent-length: (\d+)\r", head + b"\r")
    size = 0 if head_only or length is None else int(length.group(1))
    while len(body) < size and (chunk := conn.recv(65536)):
        body += chunk
    return head + b"\r\n\r\n" + body


def request(method: str, path: str, *headers: str, close: bool = True) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "host: test", *headers]
    if close:
        lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def requests(etag: str, last_modified: str) -> list[bytes]:
    return [
        request("GET", FEED),
        request("HEAD", FEED),
        request("GET", FEED + "?x=1"),
        request("GET", "/feeds/milestones%2Eatom"),
        request("GET", FEED, f"if-none-match: {etag}"),
        request("HEAD", FEED, f"if-none-match: {etag}"),
        request("GET", FEED, f'if-none-match: "other", W/{etag}'),
        request("GET", FEED, "if-none-match: *"),
        request("GET", FEED, 'if-none-match: "other"', f"if-modified-since: {last_modified}"),
        request("GET", FEED, f"if-modified-since: {last_modified}"),
        request("GET", FEED, "if-modified-since: Mon, 01 Jan 1990 00:00:00 GMT"),
        request("GET", FEED, "if-modified-since: not a date"),
        request("POST", FEED, "content-length: 0"),
        request("GET", "/no-such-document"),
        b"GET " + FEED.encode() + b" HTTP/1.0\r\n\r\n",
        # Pipelined on one connection: documents, a 404 from the app between them, in order.
        request("GET", FEED, close=False) + request("GET", "/nothing-here", close=False)
        + request("GET", FEED, f"if-none-match: {etag}", close=False) + request("HEAD", FEED),
    ]


def _counted(app: Any) -> list[str]:
    exposition = app.state.chronicle.metrics.exposition().decode()
    return sorted(line for line in exposition.splitlines()
                  if line.startswith("chronicle_http_requests_total"))


@pytest.fixture
def settings(store: SqlEventStore, db_url: str) -> Settings:
    record_all(store, [milestone(n) for n in range(3)])
    return Settings(database_url=db_url, server={"poll_seconds": 0.1})


def test_the_fast_path_answers_the_same_bytes_as_the_app(store: SqlEventStore,
                                                         settings: Settings) -> None:
    fast_app = create_app(settings, store, follow=False)
    plain_app = create_app(settings, store, follow=False)
    recorder = Recorder(fast_app)
    with (uvicorn_serving(recorder, DocumentHttpToolsProtocol) as fast,
          uvicorn_serving(plain_app, BoundedHttpToolsProtocol) as plain):
        first = exchange(plain, request("GET", FEED))
        etag = re.search(rb"\r\netag: ([^\r]*)\r\n", first).group(1).decode()  # type: ignore[union-attr]
        modified = re.search(rb"\r\nlast-modified: ([^\r]*)\r\n",  # type: ignore[union-attr]
                             first).group(1).decode()
        for raw in requests(etag, modified):
            assert exchange(fast, raw) == exchange(plain, raw), raw
        assert exchange(fast, request("GET", FEED)) == first
        # A new milestone: the fast path serves the new document, not header lines of the old.
        record_all(store, [milestone(3)])
        for app in (fast_app, plain_app):
            assert app.state.chronicle.follower.try_step()
        for raw in (request("GET", FEED), request("GET", FEED, f"if-none-match: {etag}")):
            answer = exchange(fast, raw)
            assert answer == exchange(plain, raw) and etag.encode() not in answer
    # Only what the fast path leaves to the app reached it: the 405, the 404s.
    assert sorted(recorder.seen) == [("GET", "/no-such-document"), ("GET", "/nothing-here"),
                                     ("POST", FEED)]
    # The same answers counted under the same labels (each served the same GETs outside the list).
    plain_counts = _counted(plain_app)
    assert _counted(fast_app) == plain_counts
    assert any('status="304"' in line for line in plain_counts)


def test_requests_arriving_alone_on_a_kept_alive_connection_get_the_same_answers(
        store: SqlEventStore, settings: Settings) -> None:
    """What a browser, a feed reader or wrk sends: one request at a time on a kept-alive
    connection. Plain heads of documents are answered before the parser reads them
    (chronicle.web.plainhead); the rest, in between, as before; the answers are the app's."""
    fast_app = create_app(settings, store, follow=False)
    plain_app = create_app(settings, store, follow=False)
    recorder = Recorder(fast_app)
    with (uvicorn_serving(recorder, DocumentHttpToolsProtocol) as fast,
          uvicorn_serving(plain_app, BoundedHttpToolsProtocol) as plain):
        etag = fast_app.state.chronicle.cache.documents[FEED].etag.decode()
        asked = [raw for raw in requests(etag, "Mon, 01 Jan 1990 00:00:00 GMT")
                 if raw.endswith(b"\r\nconnection: close\r\n\r\n")
                 and raw.count(b"\r\n\r\n") == 1]  # not the pipelined ones
        asked = [raw.replace(b"\r\nconnection: close", b"") for raw in asked] + [
            request("GET", FEED, f"IF-NONE-MATCH:\t {etag} \t", close=False),
            request("GET", FEED, 'if-none-match: "other"', f"if-none-match: {etag}",
                    close=False),
            request("GET", FEED, f"if-none-match: {etag}", "connection: keep-alive",
                    close=False),
            request("GET", FEED, f"if-none-match: {etag}", "host : x", close=False)]
        answers = kept_alive(fast, asked)
        assert len(answers) == len(asked) and answers == kept_alive(plain, asked)
        assert answers[-1].startswith(b"HTTP/1.1 400 ")
    assert sorted(recorder.seen) == [("GET", "/no-such-document"), ("POST", FEED)]
    assert _counted(fast_app) == _counted(plain_app)


def test_a_kept_alive_connection_closes_once_idle_for_the_keep_alive_timeout(
        store: SqlEventStore, settings: Settings) -> None:
    """Answers written before the parser saw the request keep uvicorn's timer as its own do:
    the connection closes `timeout_keep_alive` after the last answer, not after the first."""
    plain = request("GET", FEED, close=False)
    with (uvicorn_serving(create_app(settings, store, follow=False), DocumentHttpToolsProtocol,
                          timeout_keep_alive=3) as port,
          socket.create_connection(("127.0.0.1", port), timeout=10) as conn):
        for _ in range(3):  # the third at 3.2 s: more than the timeout after the first answer
            conn.sendall(plain)
            assert _answer(conn, head_only=False).startswith(b"HTTP/1.1 200 OK\r\n")
            answered = time.monotonic()
            time.sleep(1.6)  # 1.4 s within the timeout: a loaded machine's margin
        assert conn.recv(1) == b""  # closed by the server (the socket's timeout is 10 s)
        assert time.monotonic() - answered > 1.7  # the timeout after the last answer, about 3 s


def test_with_the_access_log_documents_go_through_the_app(
        store: SqlEventStore, settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    recorder = Recorder(create_app(settings, store, follow=False))
    with uvicorn_serving(recorder, DocumentHttpToolsProtocol, access_log=True) as port:
        assert exchange(port, request("GET", FEED)).startswith(b"HTTP/1.1 200 OK\r\n")
    assert recorder.seen == [("GET", FEED)]
    assert any(FEED in record.getMessage() for record in caplog.records)


def test_a_retracted_page_and_the_home_page_are_answered_from_the_cache(
        store: SqlEventStore, settings: Settings) -> None:
    """A retracted milestone's page is cached with its status, 410, and never turns into a
    304 (conditions apply to 2xx answers); the home page is cached as today's. The fast path
    answers both, with the bytes the app answers."""
    retract_one(store, "feed-milestone-1")
    fast_app = create_app(settings, store, follow=False)
    plain_app = create_app(settings, store, follow=False)
    recorder = Recorder(fast_app)
    gone, home = "/milestones/feed-milestone-1/index.html", "/index.html"
    with (uvicorn_serving(recorder, DocumentHttpToolsProtocol) as fast,
          uvicorn_serving(plain_app, BoundedHttpToolsProtocol) as plain):
        for raw in (request("GET", gone), request("HEAD", gone), request("GET", home),
                    request("GET", gone, "if-none-match: *"), request("GET", "/mn" + home),
                    request("GET", "/milestones/feed-milestone-1/")):
            assert exchange(fast, raw) == exchange(plain, raw), raw
        answer = exchange(fast, request("GET", gone, "if-none-match: *"))
        assert answer.startswith(b"HTTP/1.1 410 ") and b"etag:" not in answer
        assert b"content-security-policy:" in answer
        kept = "/milestones/feed-milestone-2/index.html"
        assert exchange(fast, request("GET", kept)) == exchange(plain, request("GET", kept))
    # The clean URL went through the page layer (it maps URLs); the cached paths did not.
    assert recorder.seen == [("GET", "/milestones/feed-milestone-1/")]
    assert 'status="410"' in "".join(_counted(fast_app))


def test_the_home_page_turns_with_the_day_in_the_cache(store: SqlEventStore,
                                                        settings: Settings) -> None:
    """At the day turn the follower's next step puts today's home page in the cache, with no
    new event; until then (or while the database is down) the cached one is served."""
    eve = dt.datetime(2027, 1, 26, 15, 59, 58, tzinfo=dt.UTC)   # 23:59:58 in Ulaanbaatar
    record_all(store, [milestone(9, date="1987-01-27")])
    settings = settings.model_copy(update={"posting": settings.posting.model_copy(
        update={"timezone": "Asia/Ulaanbaatar"})})
    with time_machine.travel(eve, tick=False):
        app = create_app(settings, store, follow=False)
        recorder = Recorder(app)
        with uvicorn_serving(recorder, DocumentHttpToolsProtocol) as port:
            before = exchange(port, request("GET", "/index.html"))
            assert b"(tomorrow)" in before
            mn_before = exchange(port, request("GET", "/mn/index.html"))
            with time_machine.travel(eve + dt.timedelta(seconds=5), tick=False):
                assert exchange(port, request("GET", "/index.html")) == before
                assert app.state.chronicle.follower.try_step()
                after = exchange(port, request("GET", "/index.html"))
                assert b"(today)" in after and b"(tomorrow)" not in after
                assert exchange(port, request("GET", "/mn/index.html")) != mn_before
                assert exchange(port, request("GET", "/")) == after
    assert recorder.seen == [("GET", "/")]
