"""Posting to Bluesky with the atproto SDK (``com.atproto.repo.createRecord``, app password).

Exactly once: each post's record key is a TID derived from the claim key (see :func:`tid_for`),
so every retry of a post writes the same ``at://<did>/app.bsky.feed.post/<rkey>``. A PDS
refuses a second record under a taken key (today a bare 500, bluesky-social/atproto#3718);
after any 5xx the publisher reads the record back with ``getRecord``: when it holds our text,
the post is published (``already_published``). A key can therefore never hold two posts.

Text: at most 300 graphemes and 3000 UTF-8 bytes; links become link facets with UTF-8 byte
offsets (the SDK's ``TextBuilder``), shown shortened when the text would not fit otherwise;
``langs`` carries the post's language. One embed: the card image (``uploadBlob``, then
``app.bsky.embed.images`` with its alt text), or, without an image, the post's link as an
``app.bsky.embed.external`` card whose title, description and thumbnail come from the page's
Open Graph tags.

Errors: an expired access token (400 ``ExpiredToken``) refreshes the session once, and logs
in again if the refresh token is gone too; 429 waits for ``ratelimit-reset``; 5xx and network
errors retry; a wrong handle or password (401) and invalid records (400) are permanent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx
from atproto import Client, client_utils, models
from atproto_client.exceptions import (
    AtProtocolError,
    BadRequestError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    RequestException,
    UnauthorizedError,
)
from atproto_client.request import Request

from chronicle.publishers._linkcard import LinkCard, fetch_link_card
from chronicle.publishers._logsafe import protect_secrets
from chronicle.publishers._retry import RetryPolicy
from chronicle.publishers._text import graphemes, urls_with_spans
from chronicle.publishers.base import (
    ChannelCheck,
    OutgoingPost,
    PermanentPublishError,
    RateLimited,
    Receipt,
    TextLimit,
    TransientPublishError,
)

__all__ = ["APP_PASSWORD_ENV", "HANDLE_ENV", "BlueskyPublisher", "tid_for"]

log = logging.getLogger(__name__)

HANDLE_ENV = "CHRONICLE_BLUESKY_HANDLE"
APP_PASSWORD_ENV = "CHRONICLE_BLUESKY_APP_PASSWORD"
COLLECTION = "app.bsky.feed.post"
MAX_GRAPHEMES = 300
MAX_BYTES = 3000
MAX_IMAGE_BYTES = 1_000_000  # the docs' limit; the lexicon allows 2,000,000 since 2026-04
CARD_ASPECT = (1200, 630)
SHORT_LINK = 30  # characters of a link shown before "…", as Bluesky's apps do
UNKNOWN_RESET_WAIT = dt.timedelta(minutes=5)
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"

T = TypeVar("T")


def tid_for(key: str, local_date: dt.date) -> str:
    """A valid TID (13 base32-sortable characters) that only `key` and its date produce.

    53 bits of microseconds (the post's local date at midnight UTC plus an offset within that
    day from the key's SHA-256) and a 10-bit clock id from the same hash.
    """
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:12], "big")
    midnight = dt.datetime.combine(local_date, dt.time(), tzinfo=dt.UTC)
    micros = int(midnight.timestamp()) * 1_000_000 + digest % 86_400_000_000
    value = ((micros & ((1 << 53) - 1)) << 10) | ((digest >> 64) & 0x3FF)
    return "".join(TID_ALPHABET[(value >> (5 * i)) & 31] for i in range(12, -1, -1))


def _short(url: str) -> str:
    shown = url.split("://", 1)[-1]
    return shown if len(shown) <= SHORT_LINK else shown[: SHORT_LINK - 1] + "…"


def rich_text(text: str, *, shorten_links: bool = False) -> client_utils.TextBuilder:
    """`text` with every http(s) URL as a link facet (UTF-8 byte offsets)."""
    builder = client_utils.TextBuilder()
    cursor = 0
    for url, start, end in urls_with_spans(text):
        if start > cursor:
            builder.text(text[cursor:start])
        builder.link(_short(url) if shorten_links else url, url)
        cursor = end
    if cursor < len(text):
        builder.text(text[cursor:])
    return builder


def fits(text: str) -> bool:
    return graphemes(text) <= MAX_GRAPHEMES and len(text.encode()) <= MAX_BYTES


def _xrpc_error(exc: RequestErrorBase) -> tuple[int | None, str, str]:
    response = exc.response
    if response is None:
        return None, "", ""
    content = response.content
    name = getattr(content, "error", "") or ""
    message = getattr(content, "message", "") or ""
    return response.status_code, str(name), str(message)


def _describe(exc: RequestErrorBase) -> str:
    status, name, message = _xrpc_error(exc)
    if status is None:
        return f"network error talking to Bluesky: {type(exc).__name__}"
    return f"Bluesky answered {status} {name}: {message or 'no message'}"


class BlueskyPublisher:
    """Publishes posts to one Bluesky account through its PDS."""

    name = "bluesky"

    def __init__(
        self,
        handle: str,
        app_password: str,
        *,
        pds_url: str = "https://bsky.social",
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        link_card: Callable[[str], LinkCard] | None = None,
    ) -> None:
        protect_secrets([app_password])
        self.handle = handle
        self.pds_url = pds_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._password = app_password
        self._timeout = timeout
        self._link_card = link_card or (lambda url: fetch_link_card(url, timeout=timeout))
        self._client: Client | None = None

    def __repr__(self) -> str:
        return f"BlueskyPublisher({self.handle!r}, pds_url={self.pds_url!r})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **options: Any) -> BlueskyPublisher | None:
        """A publisher when both credential variables are set, else None."""
        handle = environ.get(HANDLE_ENV, "").strip()
        password = environ.get(APP_PASSWORD_ENV, "").strip()
        if not handle or not password:
            return None
        return cls(handle, password, **options)

    # -- the contract -------------------------------------------------------------------

    def text_limit(self) -> TextLimit:
        return TextLimit(max_length=MAX_GRAPHEMES, measure=graphemes)

    def preflight(self) -> ChannelCheck:
        """Read-only: log in (``createSession``) with the app password."""
        try:
            client = self._login()
        except (PermanentPublishError, TransientPublishError) as exc:
            return ChannelCheck(channel=self.name, ok=False, detail=str(exc))
        return ChannelCheck(channel=self.name, ok=True,
                            detail=f"@{self.handle} ({self._did(client)}) on {self.pds_url}; "
                                   f"{MAX_GRAPHEMES} graphemes")

    def publish(self, post: OutgoingPost) -> Receipt:
        """Write the post under its own record key; a key already holding it is published."""
        builder = rich_text(post.text)
        if not fits(builder.build_text()):
            builder = rich_text(post.text, shorten_links=True)
        text = builder.build_text()
        if not fits(text):
            raise PermanentPublishError(
                f"{post.key}: {graphemes(text)} graphemes / {len(text.encode())} bytes > "
                f"{MAX_GRAPHEMES} / {MAX_BYTES} on Bluesky")
        rkey = tid_for(post.key, post.local_date)
        embed = self._embed(post)
        record = models.AppBskyFeedPost.Record(
            text=text, facets=builder.build_facets() or None, langs=[post.language],
            created_at=self.retry.clock().astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            embed=embed)
        return self.retry.run(f"Bluesky post {post.key}",
                              lambda: self._create(post.key, rkey, record))

    # -- the steps ----------------------------------------------------------------------

    def _embed(self, post: OutgoingPost) -> Any:
        if post.image is not None:
            if len(post.image.png) > MAX_IMAGE_BYTES:
                raise PermanentPublishError(f"{post.key}: card of {len(post.image.png)} bytes > "
                                            f"{MAX_IMAGE_BYTES}")
            png = post.image.png
            blob = self.retry.run(f"Bluesky image for {post.key}",
                                  lambda: self._upload(png))
            width, height = CARD_ASPECT
            return models.AppBskyEmbedImages.Main(images=[models.AppBskyEmbedImages.Image(
                alt=post.image.alt, image=blob,
                aspect_ratio=models.AppBskyEmbedDefs.AspectRatio(width=width, height=height))])
        urls = urls_with_spans(post.text)
        if not urls:
            return None
        card = self._link_card(urls[-1][0])
        thumb = None
        if card.image and len(card.image) <= MAX_IMAGE_BYTES:
            image = card.image
            thumb = self.retry.run(f"Bluesky link thumbnail for {post.key}",
                                   lambda: self._upload(image))
        return models.AppBskyEmbedExternal.Main(external=models.AppBskyEmbedExternal.External(
            uri=card.url, title=card.title, description=card.description, thumb=thumb))

    def _upload(self, png: bytes) -> Any:
        """``uploadBlob`` with the image's own type (the SDK would send ``*/*``)."""
        return self._call(lambda c: c.com.atproto.repo.upload_blob(
            png, headers={"Content-Type": "image/png"})).blob

    def _create(self, key: str, rkey: str, record: models.AppBskyFeedPost.Record) -> Receipt:
        try:
            answer = self._call(lambda c: c.com.atproto.repo.create_record(
                models.ComAtprotoRepoCreateRecord.Data(
                    repo=self._did(c), collection=COLLECTION, rkey=rkey, record=record)))
        except TransientPublishError as exc:
            if isinstance(exc, RateLimited):
                raise
            # A 5xx or a lost answer may mean the record exists (a taken rkey is a bare 500).
            found = self._existing(rkey)
            if found is None:
                raise
            if found != record.text:
                raise PermanentPublishError(
                    f"{key}: record {rkey} already holds another text") from None
            log.info("Bluesky post %s: record %s already holds it", key, rkey)
            return self._receipt(rkey, already=True)
        log.info("Bluesky post %s published as %s", key, answer.uri)
        return self._receipt(rkey, already=False)

    def _existing(self, rkey: str) -> str | None:
        """The text of our record `rkey`, or None when there is none (or it cannot be read)."""
        try:
            found = self._call(lambda c: c.com.atproto.repo.get_record(
                models.ComAtprotoRepoGetRecord.Params(repo=self._did(c), collection=COLLECTION,
                                                      rkey=rkey)))
        except (PermanentPublishError, TransientPublishError):
            return None
        value = found.value
        text = value.get("text") if isinstance(value, dict) else getattr(value, "text", None)
        return str(text) if text is not None else None

    def _receipt(self, rkey: str, *, already: bool) -> Receipt:
        did = self._did(self._session_client())
        return Receipt(remote_id=f"at://{did}/{COLLECTION}/{rkey}",
                       url=f"https://bsky.app/profile/{did}/post/{rkey}",
                       already_published=already)

    @staticmethod
    def _did(client: Client) -> str:
        """The logged-in account's DID (the SDK keeps it on its session, with no accessor)."""
        session = client._session
        if session is None:
            raise TransientPublishError("no Bluesky session")
        return str(session.did)

    # -- the session and one request ----------------------------------------------------

    def _login(self) -> Client:
        client = Client(base_url=self.pds_url, request=Request(timeout=self._timeout))
        self._translate(lambda: client.login(self.handle, self._password,
                                             fetch_bsky_profile=False), login=True)
        self._client = client
        return client

    def _session_client(self) -> Client:
        return self._client or self.retry.run("Bluesky login", self._login)

    def _call(self, request: Callable[[Client], T]) -> T:
        """One request on the session; an expired access token is refreshed once."""
        client = self._session_client()
        try:
            return self._translate(lambda: request(client))
        except _Expired:
            self._refresh(client)
            return self._translate(lambda: request(self._session_client()))

    def _refresh(self, client: Client) -> None:
        """After a server-side ExpiredToken: the SDK refreshes by the token's own expiry only,
        so its refresh step is called here directly."""
        try:
            self._translate(client._refresh_and_set_session)
        except (_Expired, PermanentPublishError):
            log.info("Bluesky refresh token expired or revoked: logging in again")
            self._client = None
            self.retry.run("Bluesky login", self._login)

    def _translate(self, call: Callable[[], T], *, login: bool = False) -> T:
        """The SDK's errors as the publisher's errors (and _Expired for an expired token)."""
        try:
            return call()
        except RateLimitExceededError as exc:
            reset, now = exc.reset_at, self.retry.clock()
            # ratelimit-reset is wall-clock time: carried over onto the publisher's clock
            retry_at = (now + (reset - dt.datetime.now(dt.UTC)) if reset is not None
                        else now + UNKNOWN_RESET_WAIT)
            raise RateLimited(f"Bluesky rate limit reached until {retry_at.isoformat()}",
                              retry_at=retry_at) from None
        except (BadRequestError, UnauthorizedError) as exc:
            status, name, _ = _xrpc_error(exc)
            if name == "ExpiredToken" and not login:
                raise _Expired(_describe(exc)) from None
            what = "wrong handle or app password: " if login and status == 401 else ""
            raise PermanentPublishError(what + _describe(exc)) from None
        except NetworkError as exc:
            status, _, _ = _xrpc_error(exc)
            if status == 413:
                raise PermanentPublishError(_describe(exc)) from None
            raise TransientPublishError(_describe(exc)) from None
        except RequestException as exc:
            status, _, _ = _xrpc_error(exc)
            if status is not None and status < 500:
                raise PermanentPublishError(_describe(exc)) from None
            raise TransientPublishError(_describe(exc)) from None
        except AtProtocolError as exc:
            raise PermanentPublishError(f"Bluesky: {type(exc).__name__}: {exc}") from None
        except httpx.TransportError as exc:  # the SDK passes on what it does not map
            raise TransientPublishError(
                f"network error talking to Bluesky: {type(exc).__name__}") from None


class _Expired(Exception):
    """The access token expired: refresh the session and try once more."""
