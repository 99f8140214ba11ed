"""Keep credentials out of logs, whatever level the application logs at.

tweepy, requests-oauthlib, oauthlib and urllib3 log at DEBUG; requests-oauthlib and oauthlib
log the signed ``Authorization`` header (consumer key, access token, signature) and the
signature base string. Two layers: those chatty loggers are raised to WARNING, and a filter on
every logger of these libraries applies `chronicle.redaction.redact` (every known secret, raw or
percent-encoded, and anything shaped like an authorization) to a record's message and traceback
text before any handler sees it. Logger filters only apply to records
created on that very logger, hence the filter is attached to each module logger by name.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from chronicle.redaction import REDACTED, redact, register_secrets

__all__ = ["REDACTED", "protect_secrets"]

_PREFIXES = ("tweepy", "requests_oauthlib", "oauthlib", "urllib3", "requests", "chronicle")
_KNOWN = (
    "tweepy",
    "tweepy.client",
    "tweepy.auth",
    "requests_oauthlib",
    "requests_oauthlib.oauth1_auth",
    "requests_oauthlib.oauth1_session",
    "oauthlib",
    "oauthlib.oauth1",
    "oauthlib.oauth1.rfc5849",
    "oauthlib.oauth1.rfc5849.signature",
    "oauthlib.oauth1.rfc5849.utils",
    "urllib3",
    "urllib3.connection",
    "urllib3.connectionpool",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
    "requests",
    "chronicle.publishers.x",
)
_QUIETED = ("requests_oauthlib", "oauthlib")


class _RedactSecrets(logging.Filter):
    """Rewrites records that mention a registered secret; never drops a record."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()

    def add(self, secrets: Iterable[str]) -> None:
        secrets = tuple(s for s in secrets if s)
        register_secrets(secrets)
        with self._lock:
            self._secrets = tuple(set(self._secrets) | set(secrets))

    def redact(self, text: str) -> str:
        return redact(text)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the handler's problem, not ours
            return True
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


_FILTER = _RedactSecrets()


def _library_loggers() -> list[logging.Logger]:
    names = set(_KNOWN) | {
        name
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger) and name.startswith(_PREFIXES)
    }
    return [logging.getLogger(name) for name in sorted(names)]


def protect_secrets(secrets: Iterable[str]) -> None:
    """Register ``secrets`` for redaction and install the filter on the libraries' loggers."""
    _FILTER.add(secrets)
    for logger in _library_loggers():
        logger.addFilter(_FILTER)  # idempotent: Filterer ignores a filter it already has
    for name in _QUIETED:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
