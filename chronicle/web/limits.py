"""Bounds on what a client may send before the app sees a request: the request head's size.

uvicorn picks httptools (installed by `uvicorn[standard]`), which buffers a header of any size
(a single 100 MB header was accepted). h11 has a bound (`h11_max_incomplete_event_size`);
httptools gets the same one here, counted on the bytes received until the head is complete.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol  # uvicorn[standard]

MAX_REQUEST_HEAD_BYTES = 64 * 1024
"""Request line and headers: browsers send a few KiB; nginx's default buffers hold 4 x 8 KiB."""
_TOO_LARGE = (b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
              b"content-type: text/plain; charset=utf-8\r\ncontent-length: 32\r\n"
              b"connection: close\r\n\r\nrequest header fields too large\n")


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """httptools with a bound on each request's head (request line and headers).

    At module level so that uvicorn's worker processes can unpickle it by name.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes: int | None = 0
        """Bytes received of the current request's head; None while reading its body."""

    def data_received(self, data: bytes) -> None:
        if self._head_bytes is not None:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_REQUEST_HEAD_BYTES:
                self._head_bytes = None
                self.transport.write(_TOO_LARGE)
                self.transport.close()
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._head_bytes = None
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_bytes = 0


def server_options(protocol: type[BoundedHttpToolsProtocol] = BoundedHttpToolsProtocol,
                   ) -> dict[str, Any]:
    """uvicorn options that bound a request's head (h11's option too, should h11 be chosen).

    `protocol`: `BoundedHttpToolsProtocol` or a subclass (`chronicle serve` answers documents
    in the protocol: chronicle.web.fastpath).
    """
    return {"http": protocol,
            "h11_max_incomplete_event_size": MAX_REQUEST_HEAD_BYTES}
