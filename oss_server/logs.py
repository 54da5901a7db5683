"""Log redaction: credentials, factors and card-like digit runs never reach a log line.

Redaction happens when a record is *created* (a log-record factory), not in a handler or
filter: a filter on a logger misses records propagated from its children, and a handler
filter misses handlers added later (gunicorn's, a test's capture). Creating the record is
the one point every line passes through.
"""
from __future__ import annotations

import logging
import re

from seom_client.screening import CARD_RUN

_SECRET_NAMES = (r"password|passwd|passphrase|secret|token|api[_-]?key|apikey|cookie|session"
                 r"|verifier|zip|postal|email|phone|otp|totp")
# Each pattern with the characters it cannot match without (None: always run). Most
# lines (the access log's above all) hold neither ":", "=" nor "@", and those two
# patterns cost most: they try an alternation, or a run of word characters, at every
# position of the line.
_PATTERNS = [
    # Authorization headers, whatever the scheme.
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(?:(?:bearer|basic|token)\s+)?"
                r"[^\s\"',;]+"), r"\1[redacted]", None),
    # API keys anywhere: in a header dump, a URL, an exception message.
    (re.compile(r"oss_[0-9a-f]{16}_[A-Za-z0-9_\-]+"), "oss_[redacted]", None),
    # name=value and "name": "value" pairs whose name says secret (quoted values whole).
    (re.compile(r"(?i)((?:" + _SECRET_NAMES + r")[\"']?\s*[:=]\s*)"
                r"(\"[^\"]*\"|'[^']*'|[^\s\"',;&]+)"), r"\1[redacted]", (":", "=")),
    # Card-like digit runs: 13–19 digits with the screening's separators between them.
    (CARD_RUN, "[digits redacted]", None),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "[email redacted]", ("@",)),
    # Link tokens are bearer credentials: a status page (/s/<slug>/o/<token>) opens an
    # order, a reset link (/account/reset/<token>) an account. Masked in every line that
    # quotes the path: access lines (ours, werkzeug's, gunicorn's), errors, tracebacks.
    (re.compile(r"(/s/[^/\s\"'?#]+/o/|/reset/)[A-Za-z0-9_.~%-]+"), r"\1[token]",
     ("/o/", "/reset/")),
]


def redact(text: str) -> str:
    """Return *text* with secrets, factors and card-like digit runs masked."""
    for pattern, replacement, needs in _PATTERNS:
        if needs is None or any(part in text for part in needs):
            text = pattern.sub(replacement, text)
    return text


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Rewrite *record*'s message and traceback through :func:`redact`, in place."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep the template only, never the arguments
        message = str(record.msg)
    cleaned = redact(message)
    if cleaned != message or record.args:
        record.msg, record.args = cleaned, None
    # Lets a formatter skip a second pass over a message nothing changed since.
    record.redacted_message = cleaned
    if record.exc_info and not record.exc_text:
        # Exception messages carry values (SQL parameters, validation input).
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """Rewrite each record through :func:`redact_record` (for handlers set up elsewhere)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_installed = False


def install_redaction() -> None:
    """Redact every log record of this process when it is created."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        return redact_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
