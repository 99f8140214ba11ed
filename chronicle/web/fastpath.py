"""Cached documents answered inside uvicorn's protocol: no ASGI task, one write per answer.

Through ASGI, a document answer costs a task, a coroutine per layer and two `send` calls that
check every header with a regex and write twice; that was half of a request's time. Here the
protocol asks `DocumentAnswers` first, as the request head is complete, and writes the bytes
uvicorn's `send` would have written for the same messages (status line, its default headers,
the document's headers, `connection: close` when the connection ends, the body unless HEAD).

Only GET/HEAD of a cached document (its own status, 200 or a retracted page's 410, or 304)
is answered here; everything else (a 405, the 503 before the first render, /healthz, pages
not cached, 404) goes through the app as before. The home page needs no exception: the
follower puts today's into the cache when the day turns (chronicle.web.pages.DayTurn).
The app hands its `DocumentAnswers` to the protocol through the ASGI lifespan state, so
another ASGI server simply never uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    RequestResponseCycle,
)

from chronicle.web.cache import DocumentCache, Headers, Served
from chronicle.web.documents import is_fresh, route_label
from chronicle.web.limits import BoundedHttpToolsProtocol
from chronicle.web.metrics import Metrics

ANSWERS_KEY = "chronicle.document_answers"
"""The lifespan state's key under which the app hands the protocol its `DocumentAnswers`."""
_CLOSE = b"connection: close\r\n"


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
        # path → (200 header lines, 304 header lines) of the documents of `_of` (the cache's
        # dict they were built from: a new dict starts afresh, holding no old document).
        self._of: dict[str, Served] | None = None
        self._lines: dict[str, tuple[bytes | None, bytes | None]] = {}
        # uvicorn's default headers (the date) as lines; uvicorn replaces the list every second.
        self._defaults: tuple[Headers, bytes | None] = ([], b"")

    def _header_lines(self, documents: dict[str, Served], path: str,
                      served: Served) -> tuple[bytes | None, bytes | None]:
        if documents is not self._of:
            self._of, self._lines = documents, {}
        known = self._lines.get(path)
        if known is None:
            known = self._lines[path] = (header_lines(served.ok_headers),
                                         header_lines(served.not_modified_headers))
        return known

    def respond(self, scope: Mapping[str, Any], default_headers: Headers,
                keep_alive: bool) -> bytes | None:
        """The response's bytes, or None when the app must answer (not a cached GET/HEAD)."""
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            return None
        documents = self.cache.documents
        served = documents.get(scope["path"])
        if served is None:
            return None
        fresh = is_fresh(scope["headers"], served)
        status = 304 if fresh else served.document.status
        ok_lines, not_modified_lines = self._header_lines(documents, scope["path"], served)
        lines = not_modified_lines if fresh else ok_lines
        if self._defaults[0] is not default_headers:
            self._defaults = (default_headers, header_lines(default_headers))
        defaults = self._defaults[1]
        if lines is None or defaults is None:
            return None
        head = [STATUS_LINE[status], defaults, lines, b"" if keep_alive else _CLOSE, b"\r\n"]
        if not fresh and method == "GET":
            head.append(served.document.body)
        self.metrics.request(route_label(served), status)
        return b"".join(head)


class DocumentHttpToolsProtocol(BoundedHttpToolsProtocol):
    """uvicorn's httptools protocol (with the bounded head) that answers documents itself.

    Requests are answered in their order: uvicorn starts a request here only once the one
    before it on the connection is complete. While the client does not read (the transport
    paused writing), documents go through the app, whose `send` waits for the client; so
    they do with `--access-log`.
    """

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
        self.transport.write(response)
        if not cycle.keep_alive:
            self.transport.close()
        cycle.on_response()
