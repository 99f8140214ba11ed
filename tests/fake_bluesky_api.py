"""A fake Bluesky PDS on 127.0.0.1 that checks what the atproto SDK sends and answers like one.

Not a mock of our code: a real HTTP server speaking XRPC to the real atproto client. It
keeps sessions (JWTs with ``exp``, a didDoc naming this server as the account's PDS, refresh
with the refresh token as Bearer), blobs, and records keyed by rkey. It checks each request
as the reference PDS would: a valid TID rkey, at most 300 graphemes and 3000 bytes of text,
facets whose UTF-8 byte range holds the link text, images embeds that reference an uploaded
blob and carry alt text. A taken rkey gets the bare 500 observed on the real PDS
(bluesky-social/atproto#3718). Error bodies come from ``tests/fixtures/bluesky-api.json``
(copied from ``shared/bluesky-api/``). ``fail()`` queues faults for an XRPC method: a status,
``drop`` (the record is written, then the connection closed unanswered), ``hang`` (the same,
once ``release`` is set: a client killed mid-post) or ``expire`` (the session's access token
is expired before the request is checked).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import regex

from tests.loopback import Answer, LoopbackServer, QuietHandler

FIXTURES = Path(__file__).parent / "fixtures" / "bluesky-api.json"
DID = "did:plc:u5cwb2mwiv2bfq53cjufe6yn"
TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")



def load_fixtures() -> dict[str, Any]:
    return json.loads(FIXTURES.read_text(encoding="utf-8"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(typ: str, scope: str, lifetime: int, nonce: int) -> str:
    """An HS256-shaped JWT with the claims the PDS puts in (signature not checked here)."""
    now = int(time.time())
    header = _b64(json.dumps({"typ": typ, "alg": "HS256"}).encode())
    claims = _b64(json.dumps({"scope": scope, "sub": DID, "aud": "did:web:pds.test",
                              "iat": now, "exp": now + lifetime, "jti": str(nonce)}).encode())
    return f"{header}.{claims}.{_b64(hashlib.sha256(f'{typ}{nonce}'.encode()).digest())}"


@dataclass(frozen=True)
class Seen:
    method: str
    nsid: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Fault:
    status: int = 0
    drop: bool = False
    hang: bool = False  # like drop, but only once ``release`` is set (a client killed mid-post)
    expire: bool = False
    reset_in: int = 30


@dataclass
class FakePds(LoopbackServer):
    """The server; use as a context manager."""

    handle: str
    password: str
    fixtures: dict[str, Any] = field(default_factory=load_fixtures)
    requests: list[Seen] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    sessions_created: int = 0
    refreshes: int = 0

    def __post_init__(self) -> None:
        self._faults: dict[str, deque[Fault]] = {}
        self._access: set[str] = set()
        self._refresh: set[str] = set()
        self._nonce = 0
        self._lock = threading.Lock()
        self._serve(_handler_for(self))

    def fail(self, nsid: str, *faults: Fault) -> None:
        self._faults.setdefault(nsid, deque()).extend(faults)

    def calls(self, nsid: str) -> list[Seen]:
        return [s for s in self.requests if s.nsid == nsid]

    # -- answers -------------------------------------------------------------------------

    def _error(self, name: str) -> Answer:
        entry = self.fixtures["errors"][name]
        return entry["status"], {"Content-Type": "application/json"}, json.dumps(
            entry["body_json"]).encode()

    def _ok(self, body: object) -> Answer:
        return 200, {"Content-Type": "application/json; charset=utf-8",
                     "RateLimit-Limit": "5000", "RateLimit-Remaining": "4997",
                     "RateLimit-Reset": str(int(time.time()) + 3600),
                     "RateLimit-Policy": "5000;w=3600"}, json.dumps(body).encode()

    def _fault(self, fault: Fault) -> Answer:
        if fault.status == 429:
            status, headers, body = self._error("rate_limited")
            headers |= {"RateLimit-Limit": "5000", "RateLimit-Remaining": "0",
                        "RateLimit-Reset": str(int(time.time()) + fault.reset_in),
                        "RateLimit-Policy": "5000;w=3600"}
            return status, headers, body
        names = self.fixtures["errors"]["server_error_names"]["facts"]
        name, message = names.get(str(fault.status), "X / Scripted").split(" / ")
        return fault.status, {"Content-Type": "application/json"}, json.dumps(
            {"error": name, "message": message}).encode()

    def _tokens(self) -> dict[str, str]:
        self._nonce += 1
        access = jwt("at+jwt", "com.atproto.appPass", 7200, self._nonce)
        refresh = jwt("refresh+jwt", "com.atproto.refresh", 90 * 86400, self._nonce)
        self._access.add(access)
        self._refresh.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh}

    def _session(self) -> dict[str, Any]:
        did_doc = {"@context": ["https://www.w3.org/ns/did/v1"], "id": DID,
                   "alsoKnownAs": [f"at://{self.handle}"],
                   "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer",
                                "serviceEndpoint": self.base_url}]}
        return {**self._tokens(), "handle": self.handle, "did": DID, "didDoc": did_doc,
                "active": True}

    def handle_request(self, seen: Seen) -> Answer | None:
        with self._lock:
            self.requests.append(seen)
            faults = self._faults.get(seen.nsid)
            fault = faults.popleft() if faults else None
            if fault is not None and fault.expire:
                self._access.clear()
                fault = None
            if fault is not None and fault.status:
                return self._fault(fault)
            answer = self._route(seen)
        if fault is not None and (fault.drop or fault.hang) and answer[0] == 200:
            if fault.hang:  # the record is written; its answer never comes
                self.release.wait(timeout=60)
            return None
        return answer

    def _route(self, seen: Seen) -> Answer:
        if seen.nsid == "com.atproto.server.createSession":
            body = json.loads(seen.body)
            if (body.get("identifier"), body.get("password")) != (self.handle, self.password):
                return self._error("wrong_password")
            self.sessions_created += 1
            return self._ok(self._session())
        bearer = seen.headers.get("authorization", "").removeprefix("Bearer ")
        if seen.nsid == "com.atproto.server.refreshSession":
            if bearer not in self._refresh:
                return self._error("revoked_refresh_token")
            self._refresh.discard(bearer)
            self.refreshes += 1
            return self._ok({**self._tokens(), "handle": self.handle, "did": DID})
        if not bearer:
            return self._error("no_authorization")
        if bearer not in self._access:
            return self._error("expired_access_token")
        if seen.nsid == "com.atproto.repo.uploadBlob":
            return self._upload(seen)
        if seen.nsid == "com.atproto.repo.createRecord":
            return self._create(json.loads(seen.body))
        if seen.nsid == "com.atproto.repo.getRecord":
            rkey = seen.query.get("rkey", [""])[0]
            if rkey not in self.records:
                return 400, {"Content-Type": "application/json"}, json.dumps(
                    {"error": "RecordNotFound",
                     "message": f"Could not locate record: at://{DID}/app.bsky.feed.post/{rkey}"}
                ).encode()
            return self._ok({"uri": f"at://{DID}/app.bsky.feed.post/{rkey}",
                             "cid": self._cid(rkey), "value": self.records[rkey]})
        self.problems.append(f"unexpected XRPC {seen.method} {seen.nsid}")
        return 501, {"Content-Type": "application/json"}, b'{"error":"MethodNotImplemented"}'

    @staticmethod
    def _cid(seed: str) -> str:
        return "bafyrei" + base64.b32encode(hashlib.sha256(seed.encode()).digest()).decode(
            ).lower().rstrip("=")[:52]

    def _upload(self, seen: Seen) -> Answer:
        mime = seen.headers.get("content-type", "")
        if mime != "image/png" or not seen.body.startswith(b"\x89PNG"):
            self.problems.append(f"uploadBlob of {mime!r}, {seen.body[:8]!r}")
        link = "bafkrei" + self._cid(seen.body.hex())[7:]
        self.blobs[link] = seen.body
        blob = dict(self.fixtures["docs"]["uploadBlob_response_blob"]["body_json"])
        blob.update(ref={"$link": link}, mimeType=mime, size=len(seen.body))
        return self._ok({"blob": blob})

    def _create(self, body: dict[str, Any]) -> Answer:
        rkey, record = body.get("rkey", ""), body.get("record", {})
        if body.get("repo") != DID or body.get("collection") != "app.bsky.feed.post":
            self.problems.append(f"createRecord repo/collection {body.get('repo')}, "
                                 f"{body.get('collection')}")
        if not TID.match(rkey):
            return 400, {"Content-Type": "application/json"}, json.dumps({
                "error": "InvalidRequest", "message": "Invalid record key for app.bsky.feed.post: "
                f'Invalid TID string (got "{rkey}") at $'}).encode()
        text = record.get("text", "")
        count = len(regex.findall(r"\X", text))
        if count > 300:
            return 400, {"Content-Type": "application/json"}, json.dumps({
                "error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record: "
                f"grapheme too big (maximum 300, got {count}) at $.record.text"}).encode()
        self._check_record(record)
        if rkey in self.records:
            return self._error("record_already_exists_on_createRecord")
        self.records[rkey] = record
        return self._ok({"uri": f"at://{DID}/app.bsky.feed.post/{rkey}", "cid": self._cid(rkey),
                         "commit": {"cid": self._cid("c" + rkey), "rev": rkey},
                         "validationStatus": "valid"})

    def _check_record(self, record: dict[str, Any]) -> None:
        if record.get("$type") != "app.bsky.feed.post" or not record.get("createdAt"):
            self.problems.append(f"record type/createdAt: {record.get('$type')}")
        if not record.get("langs"):
            self.problems.append("record without langs")
        encoded = record.get("text", "").encode()
        for facet in record.get("facets") or []:
            index = facet["index"]
            shown = encoded[index["byteStart"]:index["byteEnd"]].decode(errors="replace")
            (feature,) = facet["features"]
            uri = feature.get("uri", "")
            if not (shown == uri or (shown.endswith("…") and shown[:-1] in uri)):
                self.problems.append(f"facet bytes {index} show {shown!r}, link {uri!r}")
        embed = record.get("embed")
        if embed and embed.get("$type") == "app.bsky.embed.images":
            for image in embed["images"]:
                if image["image"]["ref"]["$link"] not in self.blobs or "alt" not in image:
                    self.problems.append(f"image embed without a known blob or alt: {image}")


def _handler_for(api: FakePds) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            seen = Seen(self.command, parts.path.removeprefix("/xrpc/"), parse_qs(parts.query),
                        {k.lower(): v for k, v in self.headers.items()}, self.body())
            self.answer(api.handle_request(seen))

        do_POST = do_GET = _serve

    return Handler
