"""Credentials never reach the log, a terminal or a page: error texts are redacted first.

End to end: the real X publisher talks to the fake X API, which echoes the request's headers
(OAuth consumer key and access token included) in its error body, as a misbehaving proxy does.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from chronicle.posting import events as ev
from chronicle.posting.clock import FixedClock
from chronicle.redaction import REDACTED, environment_secrets, redact, register_secrets
from chronicle.store import SqlEventStore, open_store
from tests.fake_x_api import FakeXApi, Reply, Secrets, XResponses, load_fixtures
from tests.test_posting_support import post_events, record_all, relations, service_for, settings_for

ENVIRON = {
    "CHRONICLE_X_CONSUMER_KEY": "ck-redaction-test-key",
    "CHRONICLE_X_CONSUMER_SECRET": "cs-redaction-test-secret",
    "CHRONICLE_X_ACCESS_TOKEN": "1456-at-redaction/token",
    "CHRONICLE_X_ACCESS_TOKEN_SECRET": "ats-redaction-test-secret",
}
DUE = dt.datetime(2027, 1, 27, 1, 0, tzinfo=dt.UTC)


def _forms(secret: str) -> list[str]:
    return [secret, quote(secret, safe=""), quote(secret)]


def assert_no_secret(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        for form in _forms(secret):
            assert form not in text, f"{form!r} leaked into {text!r}"


@pytest.mark.parametrize(("name", "value"), [
    ("CHRONICLE_MASTODON_ACCESS_TOKEN", "masto-token-123"),
    ("CHRONICLE_BLUESKY_APP_PASSWORD", "abcd-efgh-ijkl-mnop"),
    ("CHRONICLE_LOG_KEY", "hmac key with spaces & symbols"),
    ("CHRONICLE_X_CONSUMER_SECRET", "x+secret/with=chars"),
])
def test_every_credential_of_the_environment_is_redacted_in_every_form(name: str,
                                                                        value: str) -> None:
    environ = {name: value, "CHRONICLE_POSTING__TIMEZONE": "Asia/Ulaanbaatar"}
    text = (f"failed: {value} / {quote(value, safe='')} / {json.dumps(value)} "
            "in Asia/Ulaanbaatar")
    redacted = redact(text, environ)
    assert_no_secret(redacted, [value])
    assert redacted.count(REDACTED) == 3
    assert "Asia/Ulaanbaatar" in redacted, "settings that are not credentials stay readable"
    assert environment_secrets(environ) == (value,)


@pytest.mark.parametrize("text", [
    'Authorization: OAuth oauth_consumer_key="unknown-ck-1", oauth_token="unknown-at-2", '
    'oauth_signature="c2lnbmF0dXJl%3D"',
    '{"authorization": "OAuth oauth_consumer_key=\\"unknown-ck-1\\", '
    'oauth_token=\\"unknown-at-2\\""}',
    "{'Authorization': b'OAuth oauth_consumer_key=\"unknown-ck-1\", oauth_token=\"unknown-at-2\"'}",
    "Authorization: Bearer unknown-ck-1.unknown-at-2",
    "proxy said authorization=Basic dW5rbm93bi1jay0xOnVua25vd24tYXQtMg==",
    "headers={'Authorization': 'Bearer unknown-ck-1unknown-at-2'}",
])
def test_anything_shaped_like_an_authorization_is_redacted_even_from_unknown_keys(
        text: str) -> None:
    redacted = redact(text, {})
    assert REDACTED in redacted
    for fragment in ("unknown-ck-1", "unknown-at-2", "c2lnbmF0dXJl", "dW5rbm93bi1jay0x"):
        assert fragment not in redacted


def test_plain_error_texts_are_left_alone() -> None:
    text = "X answered 403 Forbidden: You are not allowed to create a Tweet with duplicate content."
    assert redact(text, {}) == text
    assert redact("basic rules apply; bearer of news", {}) == "basic rules apply; bearer of news"


def test_registered_secrets_are_redacted_without_the_environment() -> None:
    register_secrets(["registered-secret-77", "ab"])
    assert redact("got registered-secret-77 and ab", {}) == f"got {REDACTED} and ab"


@pytest.fixture
def store(sqlite_url: str) -> Iterator[SqlEventStore]:
    opened = open_store(sqlite_url)
    record_all(opened, [relations()])
    yield opened
    opened.close()


def test_a_channel_echoing_the_authorization_header_never_puts_it_in_the_log(
        store: SqlEventStore, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    secrets = list(ENVIRON.values())
    with FakeXApi(Secrets(*secrets), XResponses(load_fixtures())) as api:
        api.script(Reply(401, "Unauthorized", {"content-type": "application/json"},
                         echo_headers=True))
        settings = settings_for(tmp_path, str(store.engine.url), channels=["x"],
                                x_api_base_url=api.base_url, x_timeout_seconds=5)
        service = service_for(store, settings, FixedClock(DUE + dt.timedelta(seconds=2)),
                              environ=ENVIRON, x_options={"sleep": lambda _s: None})
        caplog.set_level(logging.DEBUG)
        (result,) = service.post_due()
        assert api.take_problems() == []
    (failed,) = post_events(store, ev.FAILED)
    stored = json.dumps(failed.payload)
    assert "oauth_consumer_key" in stored and REDACTED in stored, "the fake echoed the header"
    assert_no_secret(stored, secrets)
    assert_no_secret(result.detail or "", secrets)
    assert_no_secret(caplog.text, secrets)
