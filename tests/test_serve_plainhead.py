"""Plain request heads (chronicle.web.plainhead) are read as httptools reads them, or left to it:
whatever it reads, httptools, as uvicorn drives it, reads the same method, path and conditions
from, as one complete keep-alive request with no body and nothing after it."""

from __future__ import annotations

import httptools
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from chronicle.web.documents import conditions
from chronicle.web.plainhead import plain_request

ETAG = b'"b30557e010707d77e56f986543575af16e52c5d6"'
WRK = b"GET /feeds/milestones.atom HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nIf-None-Match: " + ETAG


class Reading:
    """What uvicorn's protocol takes from httptools' callbacks (names lowered, values
    stripped at the end; llhttp strips them at the start)."""

    def __init__(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.complete = 0
        self.body = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value.rstrip(b" \t")))

    def on_body(self, _body: bytes) -> None:
        self.body = True

    def on_message_complete(self) -> None:
        self.complete += 1


def httptools_reading(data: bytes) -> tuple[str, str, bytes | None, bytes | None] | None:
    """`data` as uvicorn reads it through httptools, when it is one whole plain request."""
    reading = Reading()
    parser = httptools.HttpRequestParser(reading)
    parser.set_dangerous_leniencies(lenient_data_after_close=True)
    try:
        parser.feed_data(data)
    except (httptools.HttpParserError, httptools.HttpParserUpgrade):
        return None
    if (reading.complete != 1 or reading.body or parser.get_http_version() != "1.1"
            or not parser.should_keep_alive() or parser.should_upgrade()):
        return None
    parsed = httptools.parse_url(reading.url)
    if parsed.query is not None:
        return None
    return (parser.get_method().decode(), parsed.path.decode(), *conditions(reading.headers))


def head(*lines: bytes) -> bytes:
    return b"\r\n".join(lines) + b"\r\n\r\n"


@pytest.mark.parametrize("data", [
    head(WRK),
    head(b"HEAD /index.html HTTP/1.1"),
    head(b"GET /feeds/milestones.atom HTTP/1.1", b"if-none-match:\t " + ETAG + b" \t",
         b"If-None-Match: *", b"if-modified-since: Sun, 06 Dec 2026 10:57:22 GMT"),
    head(b"GET /feeds/milestones.atom HTTP/1.1", b"If-Modified-Since: x", b"X-Empty:",
         b"If-Modified-Since: Sun, 06 Dec 2026 10:57:22 GMT", b"user-agent: a (b; c)"),
])
def test_a_plain_head_is_read_as_httptools_reads_it(data: bytes) -> None:
    assert plain_request(data) is not None
    assert plain_request(data) == httptools_reading(data)


def test_the_first_if_none_match_and_the_last_if_modified_since_count() -> None:
    assert plain_request(head(WRK, b'IF-NONE-MATCH: "x"')) == (
        "GET", "/feeds/milestones.atom", ETAG, None)
    assert plain_request(head(b"GET / HTTP/1.1", b"if-modified-since: a",
                              b"if-modified-since:  b ")) == ("GET", "/", None, b"b")


@pytest.mark.parametrize("data", [
    head(WRK, b"Connection: keep-alive"),       # the parser decides about the connection
    head(WRK, b"proxy-connection: close"),
    head(WRK, b"Content-Length: 0"),
    head(WRK, b"transfer-encoding: chunked") + b"0\r\n\r\n",
    head(WRK, b"Expect: 100-continue"),
    head(WRK, b"Upgrade: websocket"),
    head(b"GET /feeds/milestones.atom?x=1 HTTP/1.1"),
    head(b"GET /feeds/milestones%2Eatom HTTP/1.1"),
    head(b"GET http://example.org/ HTTP/1.1"),
    head(b"GET /feeds/milestones.atom HTTP/1.0"),
    head(b"get /feeds/milestones.atom HTTP/1.1"),
    head(b"POST /feeds/milestones.atom HTTP/1.1"),
    head(WRK, b"Host : x"),                     # httptools: 400
    head(WRK, b"x-folded: a", b" b"),           # obs-fold
    head(WRK, b"x-bytes: \xff"),
    head(WRK, b"x-nul: \x00"),
    head(WRK) + head(WRK),                      # pipelined: the parser keeps them in order
    head(WRK) + b"G",
    head(WRK)[:-1],
    WRK + b"\n\n",
])
def test_any_other_head_is_left_to_httptools(data: bytes) -> None:
    assert plain_request(data) is None


_HEADER = st.tuples(
    st.sampled_from([b"Host", b"If-None-Match", b"if-modified-since", b"X-A", b"Connection",
                     b"Proxy-Connection", b"content-length", b"Transfer-Encoding", b"Upgrade",
                     b"Expect"]),
    st.sampled_from([b":", b": ", b":\t"]),
    st.sampled_from([ETAG, b' W/"a", ' + ETAG + b"\t", b"*", b"Sun, 06 Dec 2026 10:57:22 GMT",
                     b"", b"close", b"0", b"chunked"]),
    st.just(b"\r\n")).map(b"".join)
_REQUEST = st.tuples(
    st.sampled_from([b"GET ", b"HEAD "]),
    st.sampled_from([b"/", b"/feeds/a.atom", b"//x", b"/a?b", b"/%41", b"/a#b", b"/a;b=c"]),
    st.just(b" HTTP/1.1\r\n"), st.lists(_HEADER, max_size=4).map(b"".join),
    st.just(b"\r\n")).map(b"".join)
"""Request heads of the plain shape, but for a few headers and paths the parser acts on."""


@given(_REQUEST, st.integers(min_value=0, max_value=200), st.binary(max_size=3),
       st.integers(min_value=0, max_value=3))
@example(head(WRK, b"Host:"), 0, b"", 0)
def test_whatever_is_read_without_the_parser_the_parser_reads_the_same(
        data: bytes, at: int, inserted: bytes, dropped: int) -> None:
    """Plain heads, some with a few bytes put in or taken out somewhere."""
    data = data[:at] + inserted + data[at + dropped:]
    request = plain_request(data)
    if request is not None:
        assert httptools_reading(data) == request
