"""The transport under tweepy's requests session: a default timeout and an optional new base.

tweepy calls ``session.request`` without a timeout, so a silent server would hang the
scheduler forever; the adapter fills in ``(connect, read)`` for every request. With a base URL
it re-addresses requests meant for ``https://api.twitter.com`` (fixed inside tweepy) after the
OAuth 1.0a signature has been computed, so the signature stays the one for X's real URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

__all__ = ["X_API_ORIGIN", "Timeout", "XTransport"]

X_API_ORIGIN = "https://api.twitter.com"
Timeout = float | tuple[float, float]
_AnyTimeout = float | tuple[float | None, float | None] | None
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _proxies_for(url: str) -> dict[str, str]:
    """Proxies for the new address, not the ones requests chose for api.twitter.com."""
    if urlsplit(url).hostname in _LOOPBACK:
        return {}
    return get_environ_proxies(url)


class XTransport(HTTPAdapter):
    """HTTPAdapter with a default timeout that can send X API calls to another base URL."""

    def __init__(self, *, timeout: Timeout, api_base_url: str | None = None) -> None:
        super().__init__()
        self.default_timeout = timeout
        self.api_base_url = api_base_url.rstrip("/") if api_base_url else None
        if self.api_base_url and urlsplit(self.api_base_url).scheme not in ("http", "https"):
            raise ValueError(f"api_base_url must be an http(s) URL: {api_base_url!r}")

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: _AnyTimeout = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> Response:
        if timeout is None:
            timeout = self.default_timeout
        url = request.url or ""
        if self.api_base_url and url.startswith(X_API_ORIGIN + "/"):
            request = request.copy()
            request.url = self.api_base_url + url[len(X_API_ORIGIN) :]
            proxies = _proxies_for(request.url)
        return super().send(
            request,
            stream=stream,
            timeout=timeout,
            verify=verify,
            cert=cert,
            proxies=dict(proxies) if proxies is not None else None,
        )
