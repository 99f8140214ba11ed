"""What every answer of the server carries, and what it refuses, before any route runs.

An ASGI layer around the routes; documents answered from the cache (the hot path) carry
`SECURITY_HEADERS` prepared once with the document instead, and never redirect; the page and
document layers in front of this one add them to their own answers (404, 405, 503).

- security headers on every answer: a Content-Security-Policy that allows only the site's own
  scripts, styles and images and no framing, `X-Content-Type-Options: nosniff`, a
  `Referrer-Policy` and `X-Frame-Options` for browsers without `frame-ancestors`;
- `HEAD` wherever `GET` is answered (health checks and scrapers probe with it);
- redirects never point at the request's `Host` header: Starlette builds its trailing-slash
  redirects from it (`/healthz/` → `http://<Host>/healthz`), so they are made relative;
- `/metrics` only for the networks of `server.metrics_allow`, when that list is set.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
)
_FORBIDDEN = b"forbidden\n"


def parse_networks(values: Sequence[str]) -> tuple[IPNetwork, ...]:
    """CIDR blocks ("127.0.0.1/32", "10.0.0.0/8", "::1/128"); raises ValueError on a bad one."""
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def client_allowed(scope: Scope, networks: Sequence[IPNetwork]) -> bool:
    """Whether the peer's address lies in one of `networks` (no address: not allowed)."""
    client = scope.get("client")
    try:
        address = ipaddress.ip_address(client[0]) if client else None
    except ValueError:  # a Unix socket's path, or a test transport's made-up name
        return False
    return address is not None and any(address in network for network in networks)


def relative_location(location: bytes, scope: Scope) -> bytes:
    """`location` without the scheme and host the request named, and never protocol-relative.

    Only a location built from the request itself is rewritten; one naming another host (the
    configured base URL, an external page) is left alone.
    """
    text = location.decode("latin-1")
    for origin in _request_origins(scope):
        if text.lower().startswith(origin):
            text = text[len(origin):]
            return ("/" + text.lstrip("/")).encode("latin-1")
    return location


def _request_origins(scope: Scope) -> list[str]:
    scheme = scope.get("scheme", "http")
    origins = [f"{scheme}://{value.decode('latin-1').lower()}"
               for name, value in scope.get("headers", ()) if name == b"host"]
    server = scope.get("server")
    if server:
        host, port = server[0], server[1]
        origins.append(f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}")
        origins.append(f"{scheme}://{host}")
    return sorted(origins, key=len, reverse=True)


class HardeningMiddleware:
    """The layer around the routes: see the module docstring."""

    def __init__(self, app: ASGIApp, *, metrics_allow: Sequence[IPNetwork] = (),
                 restricted: Sequence[str] = ("/metrics",)) -> None:
        self.app = app
        self.metrics_allow = tuple(metrics_allow)
        self.restricted = frozenset(restricted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if (self.metrics_allow and scope["path"] in self.restricted
                and not client_allowed(scope, self.metrics_allow)):
            await self._forbidden(send)
            return
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}

        async def hardened_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = self._start(message, scope)
            elif head and message["type"] == "http.response.body" and message.get("body"):
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, receive, hardened_send)

    @staticmethod
    def _start(message: Message, scope: Scope) -> Message:
        headers = list(message.get("headers", ()))
        present = {name.lower() for name, _ in headers}
        headers += [header for header in SECURITY_HEADERS if header[0] not in present]
        if 300 <= message["status"] < 400:
            headers = [(name, relative_location(value, scope) if name.lower() == b"location"
                        else value) for name, value in headers]
        return {**message, "headers": headers}

    @staticmethod
    async def _forbidden(send: Send) -> None:
        headers = [(b"content-type", b"text/plain; charset=utf-8"),
                   (b"content-length", str(len(_FORBIDDEN)).encode()),
                   (b"cache-control", b"no-store"), *SECURITY_HEADERS]
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": _FORBIDDEN})


__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "HardeningMiddleware",
           "client_allowed", "parse_networks", "relative_location"]
