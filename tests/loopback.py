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


Answer = tuple[int, dict[str, str], bytes]


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1, no access log on stderr; `answer` writes a fake's reply or drops the line."""

    protocol_version = "HTTP/1.1"

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def answer(self, reply: Answer | None) -> None:
        """Send `reply`; None drops the connection (a server that took the request and died)."""
        if reply is None:
            self.close_connection = True
            self.connection.close()
            return
        status, headers, body = reply
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass
