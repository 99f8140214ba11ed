"""A fake X API v2 on 127.0.0.1 that checks what tweepy sends and answers like X.

Not a mock of our code: a real HTTP server that the real tweepy client talks to through the
publisher's ``api_base_url``. Every request is checked as X would: ``POST /2/tweets``, a JSON
body ``{"text": ...}``, and an OAuth 1.0a header whose HMAC-SHA1 signature oauthlib verifies
against the test secrets for ``https://api.twitter.com/2/tweets``; or ``GET /2/users/me``
(the preflight's read-only check), signed for its own URL, with no body. A request that fails a
check gets X's real 401 body and is listed in ``problems``. Answers come from a scripted
queue built from the real X bodies and headers in ``shared/x-api/responses.json``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from oauthlib.oauth1.rfc5849 import signature, utils

from tests.loopback import LoopbackServer

FIXTURES_ENV = "CHRONICLE_X_API_FIXTURES"
DEFAULT_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "x-api" / "responses.json"
SIGNED_URL = "https://api.twitter.com/2/tweets"
ME_URL = "https://api.twitter.com/2/users/me"
ME_ID = "1720000000000000000"
MAX_CLOCK_SKEW = 300  # seconds X tolerates on oauth_timestamp
DROPPED_HEADERS = {"content-encoding", "content-length", "date", "server", "connection"}



def load_fixtures() -> dict[str, Any]:
    """The recorded X responses; skips the calling test only if the file is absent."""
    path = Path(os.environ.get(FIXTURES_ENV) or DEFAULT_FIXTURES)
    if not path.is_file():
        pytest.skip(f"X API fixtures not found at {path} (set {FIXTURES_ENV})")
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Reply:
    """One scripted answer; ``hang`` keeps the connection open without answering.

    ``echo_headers`` answers with the request's headers in X's error ``detail``, the way a
    misbehaving proxy or debugging server does (credentials included).
    """

    status: int
    reason: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    hang: bool = False
    echo_headers: bool = False


def _headers(recorded: dict[str, str]) -> dict[str, str]:
    """Recorded headers minus those that describe the recorded transfer (gzip, length)."""
    return {k: v for k, v in recorded.items() if k.lower() not in DROPPED_HEADERS}


class XResponses:
    """Replies built from the real bodies and headers in responses.json."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._create = data["create_tweet"]
        self._errors = data["errors"]

    @property
    def created_id(self) -> str:
        return self._create["recorded_sync_client"]["response"]["body_json"]["data"]["id"]

    def created(self, *, edit_history: bool = False) -> Reply:
        recorded = self._create["recorded_sync_client"]["response"]
        body = recorded["body"].encode()
        if edit_history:  # the payload shape X has sent since edits came in (2022-09)
            data = dict(self._create["since_edit_tweets"]["body_json_shape"]["data"])
            data.update(
                id=self.created_id, text="Test Tweet", edit_history_tweet_ids=[self.created_id]
            )
            body = json.dumps({"data": data}).encode()
        return Reply(recorded["status"], recorded["reason"], _headers(recorded["headers"]), body)

    def error(self, name: str, **header_values: str) -> Reply:
        """An error from the ``errors`` section; placeholders in headers are filled in."""
        entry = self._errors[name]
        headers = _headers(entry.get("headers") or entry.get("headers_observed") or {})
        headers.setdefault("content-type", "application/json; charset=utf-8")
        headers.update(header_values)
        unfilled = [k for k, v in headers.items() if v.startswith("<")]
        assert not unfilled, f"fill the placeholders of {name}: {unfilled}"
        return Reply(entry["status"], entry.get("reason", ""), headers, entry["body"].encode())

    def too_many_requests(
        self, *, reset: int, remaining: str = "0", user_24h_reset: int | None = None
    ) -> Reply:
        """429 with the window headers, and the user's exhausted 24-hour cap if given."""
        values = {"x-rate-limit-limit": "200", "x-rate-limit-remaining": remaining}
        values["x-rate-limit-reset"] = str(reset)
        if user_24h_reset is not None:
            caps = self._errors["429_too_many_requests"]["headers_24h_caps"]
            assert "x-user-limit-24hour-reset" in caps
            values |= {
                "x-user-limit-24hour-limit": "17",
                "x-user-limit-24hour-remaining": "0",
                "x-user-limit-24hour-reset": str(user_24h_reset),
            }
        return self.error("429_too_many_requests", **values)

    @staticmethod
    def me(username: str = "ChronicleMnUs") -> Reply:
        """``GET /2/users/me`` as X documents it: the authenticated user's id, name, username."""
        body = {"data": {"id": ME_ID, "name": "Chronicle", "username": username}}
        return Reply(200, "OK", {"content-type": "application/json; charset=utf-8"},
                     json.dumps(body).encode())

    @staticmethod
    def hang() -> Reply:
        return Reply(0, hang=True)


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return json.loads(self.body)["text"]


@dataclass
class Secrets:
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str


class FakeXApi(LoopbackServer):
    """The server; use as a context manager. ``script()`` queues replies in order."""

    def __init__(self, secrets: Secrets, responses: XResponses) -> None:
        self.secrets = secrets
        self.responses = responses
        self.requests: list[SeenRequest] = []
        self.problems: list[str] = []
        self._queue: deque[Reply] = deque()
        self._nonces: set[str] = set()
        self._lock = threading.Lock()
        self._serve(_handler_for(self))

    def script(self, *replies: Reply) -> None:
        self._queue.extend(replies)

    def take_problems(self) -> list[str]:
        with self._lock:
            problems, self.problems = self.problems, []
        return problems

    def handle(self, seen: SeenRequest) -> Reply:
        """Checks the request and picks the reply (X's 401 for a request X would refuse)."""
        problems = check_request(seen, self.secrets, self._nonces)
        with self._lock:
            self.requests.append(seen)
            self.problems.extend(problems)
            if problems:
                return self.responses.error("401_unauthorized")
            if not self._queue:
                self.problems.append(f"unscripted request #{len(self.requests)}")
                return self.responses.error("401_unauthorized")
            return self._queue.popleft()


def check_request(seen: SeenRequest, secrets: Secrets, nonces: set[str]) -> list[str]:
    """What X would object to in this request (empty when it is a valid signed post)."""
    if (seen.method, seen.path) == ("GET", "/2/users/me"):
        problems = [] if not seen.body else [f"GET /2/users/me with a body: {seen.body!r}"]
        return problems + check_oauth(seen.headers.get("authorization", ""), secrets, nonces,
                                      url=ME_URL, method="GET")
    problems = []
    if (seen.method, seen.path) != ("POST", "/2/tweets"):
        problems.append(f"expected POST /2/tweets, got {seen.method} {seen.path}")
    if seen.headers.get("content-type") != "application/json":
        problems.append(f"content-type {seen.headers.get('content-type')!r}")
    try:
        body = json.loads(seen.body)
        if set(body) != {"text"} or not isinstance(body["text"], str):
            problems.append(f"body is not {{'text': str}}: {body!r}")
    except (ValueError, TypeError) as exc:
        problems.append(f"body is not JSON: {exc}")
    return problems + check_oauth(seen.headers.get("authorization", ""), secrets, nonces)


def check_oauth(header: str, secrets: Secrets, nonces: set[str], *, url: str = SIGNED_URL,
                method: str = "POST") -> list[str]:
    """OAuth 1.0a header fields, freshness, and the HMAC-SHA1 signature for X's URL."""
    if not header.startswith("OAuth "):
        return ["no 'Authorization: OAuth ...' header"]
    fields = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}
    expected = {
        "oauth_consumer_key": secrets.consumer_key,
        "oauth_token": secrets.access_token,
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_version": "1.0",
    }
    problems = [f"{k} is {fields.get(k)!r}" for k, v in expected.items() if fields.get(k) != v]
    nonce, timestamp = fields.get("oauth_nonce", ""), fields.get("oauth_timestamp", "")
    if not nonce or nonce in nonces:
        problems.append(f"missing or replayed oauth_nonce {nonce!r}")
    nonces.add(nonce)
    if not timestamp.isdigit() or abs(int(timestamp) - time.time()) > MAX_CLOCK_SKEW:
        problems.append(f"oauth_timestamp {timestamp!r} is not now")
    request = SimpleNamespace(
        uri=url,
        http_method=method,
        params=signature.collect_parameters(headers={"Authorization": header}),
        signature=fields.get("oauth_signature", ""),
    )
    if not signature.verify_hmac_sha1(
        request, secrets.consumer_secret, secrets.access_token_secret
    ):
        problems.append("HMAC-SHA1 signature does not verify for " + url)
    return problems


def _handler_for(api: FakeXApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            seen = SeenRequest(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length),
            )
            reply = api.handle(seen)
            if reply.hang:
                api.release.wait(timeout=10)
                self.close_connection = True
                return
            body = reply.body
            if reply.echo_headers:
                body = json.dumps({"title": "Unauthorized", "type": "about:blank",
                                   "status": reply.status,
                                   "detail": f"Request headers were {seen.headers}"}).encode()
            self.send_response(reply.status, reply.reason or None)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

    return Handler
