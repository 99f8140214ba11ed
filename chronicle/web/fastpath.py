"""Cached documents answered inside uvicorn's protocol: no ASGI task, one write per answer.

Through ASGI, a document answer costs a task, a coroutine per layer and two `send` calls that
check every header with a regex and write twice; that was half of a request's time. Here the
protocol answers them itself with the bytes uvicorn's `send` would have written for the same
messages (status line, its default headers, the document's headers, `connection: close` when
the connection ends, the body unless HEAD), prepared once per document and second (the date).
A plain request head arriving alone on an idle connection (chronicle.web.plainhead: what
browsers, feed readers and wrk send) is answered in `data_received`, before httptools reads
it: the parser's callbacks, uvicorn's scope and request cycle and a keep-alive timer per
request were most of a 304's cost. Any other request is parsed, and a document among them
answered as uvicorn starts it.

Only GET/HEAD of a cached document (its own status, 200 or a retracted page's 410, or 304)
is answered here; everything else (a 405, the 503 before the first render, /healthz, pages
not cached, 404) goes through the app as before. The home page needs no exception: the
follower puts today's into the cache when the day turns (chronicle.web.pages.DayTurn).
The app hands its `DocumentAnswers` to the protocol through the ASGI lifespan state, so
another ASGI server simply never uses it.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    RequestResponseCycle,
)

from chronicle.web.cache import DocumentCache, Headers, Served
from chronicle.web.documents import conditions, fresh, route_label
from chronicle.web.limits import MAX_REQUEST_HEAD_BYTES, BoundedHttpToolsProtocol
from chronicle.web.metrics import Metrics
from chronicle.web.plainhead import plain_request

ANSWERS_KEY = "chronicle.document_answers"
"""The lifespan state's key under which the app hands the protocol its `DocumentAnswers`."""
_CLOSE = b"connection: close\r\n\r\n"


def header_lines(headers: Headers) -> bytes | None:
    """`headers` as uvicorn writes them; None when its `send` would refuse one."""
    lines = []
    for name, value in headers:
        if HEADER_RE.search(name) or HEADER_VALUE_RE.search(value):
            return None
        lines += [name.lower(), b": ", value, b"\r\n"]
    return b"".join(lines)


class DocumentAnswers:
    """The whole answer to GET/HEAD of a cached document, counted like the ASGI path counts it."""

    def __init__(self, cache: DocumentCache, metrics: Metrics) -> None:
        self.cache = cache
        self.metrics = metrics
        # path → its answers' heads through the blank line (keep-alive), for the documents
        # and default headers (the date: uvicorn replaces the list every second) they were
        # built from; either one new starts afresh, holding no old document or date.
        self._of: tuple[dict[str, Served] | None, Headers | None] = (None, None)
        self._heads: dict[str, _Heads] = {}

    def _prepared(self, documents: dict[str, Served], default_headers: Headers, path: str,
                  served: Served) -> _Heads:
        if documents is not self._of[0] or default_headers is not self._of[1]:
            self._of, self._heads = (documents, default_headers), {}
        heads = self._heads.get(path)
        # Made from this very entry: the cache's two dicts take turns (DocumentCache._swap),
        # so one may come back with other entries, or change while a request holds it.
        if heads is None or heads.served is not served:
            heads = self._heads[path] = _Heads.prepare(served, default_headers)
        return heads

    def respond(self, scope: Mapping[str, Any], default_headers: Headers,
                keep_alive: bool) -> Sequence[bytes] | None:
        """The response's bytes, or None when the app must answer (not a cached GET/HEAD)."""
        none_match, modified_since = conditions(scope["headers"])
        return self.answer(scope["method"], scope["path"], none_match, modified_since,
                           default_headers, keep_alive)

    def answer(self, method: str, path: str, none_match: bytes | None,
               modified_since: bytes | None, default_headers: Headers,
               keep_alive: bool) -> Sequence[bytes] | None:
        """`respond` given the request's conditions (chronicle.web.documents.fresh): the
        head, then the body of a GET answered with one (one write, no copy of the body)."""
        if method not in ("GET", "HEAD"):
            return None
        documents = self.cache.documents
        served = documents.get(path)
        if served is None:
            return None
        heads = self._prepared(documents, default_headers, path, served)
        if fresh(served, none_match, modified_since):
            head, status = heads.not_modified, 304
        else:
            head, status = heads.ok, served.document.status
        if head is None:
            return None
        if not keep_alive:
            head = head[:-2] + _CLOSE
        self.metrics.request(heads.route, status)
        if status == 304 or method == "HEAD":
            return (head,)
        return head, served.document.body


@dataclass(frozen=True, slots=True)
class _Heads:
    """A document's answers up to the body, as uvicorn writes them; None where its `send`
    would refuse a header (the app answers then)."""

    ok: bytes | None
    not_modified: bytes | None
    route: str
    served: Served     # what they were made from

    @classmethod
    def prepare(cls, served: Served, default_headers: Headers) -> _Heads:
        defaults = header_lines(default_headers)

        def head(status: int, headers: Headers) -> bytes | None:
            lines = header_lines(headers)
            if defaults is None or lines is None:
                return None
            return b"".join((STATUS_LINE[status], defaults, lines, b"\r\n"))

        return cls(head(served.document.status, served.ok_headers),
                   head(304, served.not_modified_headers), route_label(served), served)


class DocumentHttpToolsProtocol(BoundedHttpToolsProtocol):
    """uvicorn's httptools protocol (with the bounded head) that answers documents itself.

    A plain request head (chronicle.web.plainhead) that arrives alone on an idle connection
    is answered straight from `data_received`, before the parser sees it; any other is
    parsed, and a document among them answered as uvicorn starts its request. Requests are
    answered in their order: uvicorn starts one only once the one before it on the
    connection is complete. While the client does not read (the transport paused writing),
    documents go through the app, whose `send` waits for the client; so they do with
    `--access-log`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._answers: DocumentAnswers | None = None
        self._answered_at = -math.inf  # loop time of the last answer `data_received` wrote

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        answers = self.app_state.get(ANSWERS_KEY)
        # uvicorn decides on a request by request basis under a concurrency limit, and a
        # root path changes the scope's path: those requests all take the parser's way.
        if (isinstance(answers, DocumentAnswers) and not self.access_log
                and self.limit_concurrency is None and not self.root_path):
            self._answers = answers

    def data_received(self, data: bytes) -> None:
        if (self._answers is not None and self._head_bytes == 0 and not self.pipeline
                and (self.cycle is None or self.cycle.response_complete)
                and not self.flow.write_paused and len(data) <= MAX_REQUEST_HEAD_BYTES
                and self._answer_plain(data)):
            return
        super().data_received(data)

    def _answer_plain(self, data: bytes) -> bool:
        """Answer `data` if it is a plain request of a cached document (else False)."""
        request = plain_request(data)
        if request is None or self._answers is None:
            return False
        method, path, none_match, modified_since = request
        response = self._answers.answer(method, path, none_match, modified_since,
                                        self.server_state.default_headers, True)
        if response is None:
            return False
        self.transport.writelines(response)
        # What `on_response_complete` does, but the keep-alive timer outlives the answer:
        # the timer's handler looks at the time of the last one (arming a timer per answer
        # cost more than the rest of a 304).
        self.server_state.total_requests += 1
        self._answered_at = self.loop.time()
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler)
        return True

    def timeout_keep_alive_handler(self) -> None:
        """Close the idle connection, unless `data_received` answered since the timer was set."""
        self.timeout_keep_alive_task = None
        idle = self.loop.time() - self._answered_at
        if idle < self.timeout_keep_alive:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive - idle, self.timeout_keep_alive_handler)
            return
        super().timeout_keep_alive_handler()

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        answers = self.app_state.get(ANSWERS_KEY)
        response = None
        # `app` is another one when uvicorn refuses the request (limit_concurrency); the
        # access log is written by the app's `send`.
        if (isinstance(answers, DocumentAnswers) and app is self.app
                and not self.flow.write_paused and not cycle.access_log):
            response = answers.respond(cycle.scope, self.server_state.default_headers,
                                       cycle.keep_alive)
        if response is None:
            super()._start_asgi_task(cycle, app)
            return
        cycle.response_started = cycle.response_complete = True
        self.transport.writelines(response)
        if not cycle.keep_alive:
            self.transport.close()
        cycle.on_response()
