"""Credentials out of every error text before it is printed, logged or appended to the log.

A channel's error text is stored in `AnniversaryPostFailed`, which is immutable: a server that
echoes the request's `Authorization` header would put the keys into the log for good. Two
layers, applied together by `redact`:

- every known secret, raw, percent-encoded or JSON-escaped: those registered by publishers
  (`register_secrets`) and every `CHRONICLE_*` environment variable whose name says it is a
  credential (`…_KEY`, `…_SECRET`, `…_TOKEN`, `…_PASSWORD`);
- anything shaped like an authorization: an `Authorization` header's value, `Bearer …` and
  `Basic …` credentials, OAuth 1.0a `oauth_*="…"` parameters, even from a key we never knew.

Pure text in, text out; no I/O, so any layer may call it.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import quote

__all__ = ["REDACTED", "environment_secrets", "redact", "register_secrets"]

REDACTED = "[REDACTED]"
SECRET_ENV_PREFIX = "CHRONICLE_"
SECRET_NAME_ENDINGS = ("KEY", "SECRET", "TOKEN", "PASSWORD")
MIN_SECRET_LENGTH = 4
"""Shorter values are not treated as secrets: replacing every "ab" would garble the text."""

_AUTH_VALUE = re.compile(  # "Authorization: …", "authorization": "…", Authorization=…
    r"""(?i)(\bauthorization\b["']?\s*[:=]\s*["']?)(?!oauth\s)[^\s"'][^"'\r\n,}]*""")
_SCHEME_CREDENTIAL = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{6,}")
_OAUTH_PARAMETER = re.compile(r"""(?i)\b(oauth_[a-z_]+)(\\?["']?\s*[=:]\s*\\?["']?)[^"'\\,&\s]+""")


def environment_secrets(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The values of the `CHRONICLE_*` variables whose names say they hold a credential."""
    environ = os.environ if environ is None else environ
    return tuple(
        value for name, value in environ.items()
        if name.upper().startswith(SECRET_ENV_PREFIX)
        and name.upper().rsplit("_", 1)[-1] in SECRET_NAME_ENDINGS
        and len(value) >= MIN_SECRET_LENGTH
    )


def _forms(secret: str) -> set[str]:
    """How a secret may appear in a text: as is, percent-encoded (OAuth headers), in JSON."""
    return {secret, quote(secret, safe=""), quote(secret), json.dumps(secret)[1:-1]}


class _Registry:
    """The secrets publishers registered, longest first so no fragment of one survives."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.secrets: tuple[str, ...] = ()

    def add(self, secrets: Iterable[str]) -> None:
        forms = {form for secret in secrets if len(secret) >= MIN_SECRET_LENGTH
                 for form in _forms(secret)}
        with self._lock:
            self.secrets = tuple(sorted(set(self.secrets) | forms, key=len, reverse=True))


_REGISTRY = _Registry()


def register_secrets(secrets: Iterable[str]) -> None:
    """Remember credentials the environment does not name (passed in code, read from files)."""
    _REGISTRY.add(secrets)


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`text` with every known secret and anything shaped like a credential replaced."""
    known = set(_REGISTRY.secrets) | {
        form for secret in environment_secrets(environ) for form in _forms(secret)}
    for secret in sorted(known, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _OAUTH_PARAMETER.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
    text = _SCHEME_CREDENTIAL.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
    return _AUTH_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
