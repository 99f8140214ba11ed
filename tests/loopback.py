"""The part every fake API shares: a threaded HTTP server on loopback, started by `with`.

Each fake (X, Mastodon, Bluesky) checks its own requests and answers with its own bodies; only
the serving is common. `release` lets a handler that holds a connection open end at exit.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LoopbackServer:
    """Serve `handler` on 127.0.0.1 on a free port; use the fake as a context manager."""

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
