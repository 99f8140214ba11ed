"""A fake Mastodon instance on 127.0.0.1 that checks what Mastodon.py sends and answers like one.

Not a mock of our code: a real HTTP server the real Mastodon.py client talks to. It checks
each request as Mastodon would (bearer token, form body of ``POST /api/v1/statuses``, the
multipart ``POST /api/v2/media`` with ``file`` and ``description``) and keeps Mastodon's
idempotency: a status posted under an ``Idempotency-Key`` it has seen returns the original
status and creates nothing. Answers are the recorded bodies and headers from
``tests/fixtures/mastodon-api.json`` (copied from ``shared/mastodon-api/``). ``fail()`` queues
faults for a path: an error status, ``drop`` (the request takes effect, then the connection is
closed before any answer) or ``hang`` (the same, once ``release`` is set: a client killed
mid-post).
"""

from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
import html
import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.loopback import LoopbackServer, QuietHandler

FIXTURES = Path(__file__).parent / "fixtures" / "mastodon-api.json"
DROPPED_HEADERS = {"content-encoding", "content-length", "date", "server", "connection",
                   "transfer-encoding"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STATUS_FORM_KEYS = {"status", "sensitive", "visibility", "language", "media_ids[]"}



def load_fixtures() -> dict[str, Any]:
    return json.loads(FIXTURES.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Fault:
    """A scripted failure: ``status`` with Mastodon's body, or ``drop`` after creating."""

    status: int = 0
    drop: bool = False
    hang: bool = False  # like drop, but only once ``release`` is set (or the client is gone)
    reset_in: float = 30.0  # seconds, for 429


@dataclass
class Created:
    id: str
    key: str | None
    form: dict[str, list[str]]
    body: dict[str, Any]


@dataclass
class FakeMastodon(LoopbackServer):
    """The server; use as a context manager."""

    token: str
    fixtures: dict[str, Any] = field(default_factory=load_fixtures)
    requests: list[Seen] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    statuses: list[Created] = field(default_factory=list)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_characters: int = 500
    created_at: dt.datetime | None = None  # what new statuses say; None: the real now

    def __post_init__(self) -> None:
        self._faults: dict[str, deque[Fault]] = {}
        self._keys: dict[str, Created] = {}
        self._lock = threading.Lock()
        self._serve(_handler_for(self))

    def fail(self, path: str, *faults: Fault) -> None:
        self._faults.setdefault(path, deque()).extend(faults)

    def posts_to(self, path: str) -> list[Seen]:
        return [s for s in self.requests if urlsplit(s.path).path == path]

    # -- answers -------------------------------------------------------------------------

    def _recorded(self, name: str) -> tuple[int, dict[str, str], bytes]:
        response = self.fixtures["recorded"][name]["response"]
        headers = {k: v for k, v in response["headers"].items() if k.lower() not in DROPPED_HEADERS}
        return response["status"], headers, response["body"].encode()

    def _json(self, status: int, body: object, template: str = "status_post_form"
              ) -> tuple[int, dict[str, str], bytes]:
        _, headers, _ = self._recorded(template)
        return status, headers, json.dumps(body).encode()

    def _error(self, fault: Fault) -> tuple[int, dict[str, str], bytes]:
        if fault.status == 401:
            return self._recorded("error_401_invalid_token")
        if fault.status == 422:
            return self._recorded("error_422_too_long_localized_de")
        if fault.status == 429:
            facts = self.fixtures["source_facts"]["rate_limit_429"]
            reset = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=fault.reset_in)
            headers = {"Content-Type": facts["headers"]["Content-Type"],
                       "X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                       "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
            return 429, headers, json.dumps(facts["body_json"]).encode()
        if fault.status == 503:
            fact = self.fixtures["source_facts"]["idempotency"]["facts"][2]
            message = fact.split("503 ", 1)[1]  # the body Api::BaseController sends
            return 503, {"Content-Type": "application/json"}, message.encode()
        return fault.status, {"Content-Type": "application/json"}, b'{"error":"scripted"}'

    def handle(self, seen: Seen) -> tuple[int, dict[str, str], bytes] | None:
        """The answer, or None to drop the connection without one."""
        with self._lock:
            answer, fault = self._answer(seen)
        if fault is not None and (fault.drop or fault.hang) and answer[0] == 200:
            if fault.hang:  # the request took effect; its answer never comes
                self.release.wait(timeout=60)
            return None
        return answer

    def _answer(self, seen: Seen) -> tuple[tuple[int, dict[str, str], bytes], Fault | None]:
        path = urlsplit(seen.path).path
        self.requests.append(seen)
        if seen.headers.get("authorization") != f"Bearer {self.token}":
            return self._recorded("error_401_invalid_token"), None
        faults = self._faults.get(path)
        fault = faults.popleft() if faults else None
        if fault is not None and fault.status:
            return self._error(fault), None
        if (seen.method, path) == ("GET", "/api/v2/instance/"):
            return self._instance(), fault
        if (seen.method, path) == ("GET", "/api/v1/accounts/verify_credentials"):
            return self._recorded("verify_credentials"), fault
        if (seen.method, path) == ("POST", "/api/v2/media"):
            return self._media(seen), fault
        if (seen.method, path) == ("POST", "/api/v1/statuses"):
            return self._status(seen), fault
        if seen.method == "GET" and path == f"/api/v1/accounts/{self.account_id}/statuses":
            newest_first = [created.body for created in reversed(self.statuses)]
            return self._json(200, newest_first), fault
        self.problems.append(f"unexpected {seen.method} {seen.path}")
        return (404, {"Content-Type": "application/json"}, b'{"error":"Record not found"}'), None

    @property
    def account_id(self) -> str:
        return str(json.loads(self._recorded("verify_credentials")[2])["id"])

    def _instance(self) -> tuple[int, dict[str, str], bytes]:
        status, headers, body = self._recorded("instance_v2")
        instance = json.loads(body)
        instance["configuration"]["statuses"]["max_characters"] = self.max_characters
        return status, headers, json.dumps(instance).encode()

    def _media(self, seen: Seen) -> tuple[int, dict[str, str], bytes]:
        parts = _multipart(seen)
        file = parts.get("file")
        if file is None or file[1] != "image/png" or not file[2].startswith(PNG_SIGNATURE):
            self.problems.append(f"media upload without a PNG file part: {sorted(parts)}")
            return 422, {"Content-Type": "application/json"}, b'{"error":"Validation failed"}'
        if not (file[0] or "").endswith(".png"):
            self.problems.append(f"media file name {file[0]!r}")
        description = parts.get("description", (None, None, b""))[2].decode()
        status, headers, body = self._recorded("media_post_image_200_sync")
        media = json.loads(body)
        media["id"] = str(117440821640990441 + len(self.media))
        media["description"] = description
        self.media[media["id"]] = media | {"_png": file[2].hex()}
        return status, headers, json.dumps(media).encode()

    def _status(self, seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if seen.headers.get("content-type") != "application/x-www-form-urlencoded":
            self.problems.append(f"status content-type {seen.headers.get('content-type')!r}")
        form = parse_qs(seen.body.decode(), keep_blank_values=True)
        unknown = set(form) - STATUS_FORM_KEYS
        if unknown or "status" not in form:
            self.problems.append(f"status form keys {sorted(form)}")
        key = seen.headers.get("idempotency-key")
        if key in self._keys:
            return self._json(200, self._keys[key].body)
        text = form.get("status", [""])[0]
        if len(text) > self.max_characters:  # the tests' texts have no URLs to discount
            return self._recorded("error_422_too_long_localized_de")
        missing = [m for m in form.get("media_ids[]", []) if m not in self.media]
        if missing:
            return 422, {"Content-Type": "application/json"}, b'{"error":"unknown media"}'
        status, headers, body = self._recorded("status_post_form")
        entity = json.loads(body)
        status_id = str(117440831243989713 + len(self.statuses))
        created_at = self.created_at or dt.datetime.now(dt.UTC)
        entity.update(id=status_id, url=f"{self.base_url}/@mastodonpy_test/{status_id}",
                      created_at=created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                      content=f"<p>{_linkify(text)}</p>", language=form.get("language", [None])[0],
                      visibility=form.get("visibility", ["public"])[0],
                      media_attachments=[{k: v for k, v in self.media[m].items()
                                          if not k.startswith("_")}
                                         for m in form.get("media_ids[]", [])])
        created = Created(id=status_id, key=key, form=form, body=entity)
        self.statuses.append(created)
        if key:
            self._keys[key] = created
        return status, headers, json.dumps(entity).encode()


def _linkify(text: str) -> str:
    """Mastodon's HTML for a plain text: escaped, URLs as links (app/lib/text_formatter.rb)."""
    def link(match: re.Match[str]) -> str:
        url = match[0]
        return (f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener" '
                f'translate="no"><span class="">{html.escape(url)}</span></a>')
    return re.sub(r"https?://\S+", link, html.escape(text, quote=False))


def _multipart(seen: Seen) -> dict[str, tuple[str | None, str, bytes]]:
    """name -> (filename, content type, bytes) of a multipart/form-data body."""
    content_type = seen.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data; boundary="):
        return {}
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + seen.body)
    parts: dict[str, tuple[str | None, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        parts[str(name)] = (part.get_filename(), part.get_content_type(),
                            payload if isinstance(payload, bytes) else b"")
    return parts


def _handler_for(api: FakeMastodon) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def _serve(self) -> None:
            seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                        self.body())
            self.answer(api.handle(seen))

        do_POST = do_GET = _serve

    return Handler
