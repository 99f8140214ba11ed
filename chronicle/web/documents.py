"""The hot path: answer GET/HEAD for a rendered document, with conditional requests.

A plain ASGI middleware in front of the FastAPI router: a document request costs a dict
lookup and two `send` calls with headers built in advance. Anything that is not a document
falls through to the app's routes (/healthz, /metrics, 404s). Under `chronicle serve`,
uvicorn's protocol answers GET/HEAD of a document before this (chronicle.web.fastpath,
the same bytes); this layer answers them under other ASGI servers, and the 405 and 503.
It sits in front of the hardening layer, so its own answers carry the security headers.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chronicle.web.cache import OK_STATUS, DocumentCache, Served
from chronicle.web.hardening import SECURITY_HEADERS
from chronicle.web.metrics import Metrics

_NOT_READY = b"documents are not rendered yet: the database has not answered since start\n"


def _none_match(value: bytes, etag: bytes) -> bool:
    """If-None-Match uses the weak comparison: W/"x" matches "x"; "*" matches anything."""
    if value == etag:
        return True
    candidates = (part.strip() for part in value.split(b","))
    return any(c == b"*" or c.removeprefix(b"W/") == etag for c in candidates)


def _not_modified_since(value: bytes, last_modified: int) -> bool:
    try:
        since = parsedate_to_datetime(value.decode("latin-1"))
    except (TypeError, ValueError, IndexError):
        return False  # an unparseable date is ignored (RFC 9110 §13.1.3)
    return since.tzinfo is not None and last_modified <= since.timestamp()


def conditions(request_headers: list[tuple[bytes, bytes]]) -> tuple[bytes | None, bytes | None]:
    """The request's first If-None-Match (RFC 9110 §13.2.2: it wins over the rest) and its
    last If-Modified-Since, each None when absent: what `fresh` looks at."""
    modified_since = None
    for name, value in request_headers:
        if name == b"if-none-match":
            return value, None
        if name == b"if-modified-since":
            modified_since = value
    return None, modified_since


def is_fresh(request_headers: list[tuple[bytes, bytes]], served: Served) -> bool:
    """True when the client's copy is current."""
    return fresh(served, *conditions(request_headers))


def fresh(served: Served, none_match: bytes | None, modified_since: bytes | None) -> bool:
    """`is_fresh` given the request's first If-None-Match and last If-Modified-Since; never
    for a document whose status is not 200 (§13.2.1: conditions apply to 2xx answers)."""
    if served.document.status != OK_STATUS:
        return False
    if none_match is not None:
        return _none_match(none_match, served.etag)
    return modified_since is not None and _not_modified_since(modified_since,
                                                              served.last_modified)


def route_label(served: Served) -> str:
    """The bounded `route` label a document's answers are counted under."""
    return served.document.route or "document"


class DocumentMiddleware:
    def __init__(self, app: ASGIApp, cache: DocumentCache, metrics: Metrics,
                 prefix: str = "/feeds/", known_routes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.cache = cache
        self.metrics = metrics
        self.prefix = prefix
        self.known_routes = frozenset(known_routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        served = self.cache.documents.get(scope["path"])
        if served is None:
            if not self.cache.ready and scope["path"].startswith(self.prefix):
                await self._answer(send, 503, b"text/plain; charset=utf-8", _NOT_READY,
                                   "/feeds/*")
                return
            await self._pass_on(scope, receive, send)
            return
        route = route_label(served)
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            await send({"type": "http.response.start", "status": 405,
                        "headers": [(b"allow", b"GET, HEAD"), (b"content-length", b"0"),
                                    *SECURITY_HEADERS]})
            await send({"type": "http.response.body", "body": b""})
            self.metrics.request(route, 405)
            return
        if is_fresh(scope["headers"], served):
            await send({"type": "http.response.start", "status": 304,
                        "headers": served.not_modified_headers})
            await send({"type": "http.response.body", "body": b""})
            self.metrics.request(route, 304)
            return
        await send({"type": "http.response.start", "status": served.status,
                    "headers": served.ok_headers})
        await send({"type": "http.response.body",
                    "body": b"" if method == "HEAD" else served.document.body})
        self.metrics.request(route, served.status)

    async def _pass_on(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Let the app's routes answer, counting the status under a bounded route label."""
        path = scope["path"]
        route = path if path in self.known_routes else "other"

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.metrics.request(route, message["status"])
            await send(message)

        await self.app(scope, receive, counting_send)

    async def _answer(self, send: Send, status: int, media_type: bytes, body: bytes,
                      route: str) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", media_type),
                                (b"content-length", str(len(body)).encode()),
                                (b"retry-after", b"5"), *SECURITY_HEADERS]})
        await send({"type": "http.response.body", "body": body})
        self.metrics.request(route, status)
