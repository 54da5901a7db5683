"""JSON log lines, one object per line, carrying the request id of the request being served.

Used by gunicorn's logger class (:mod:`.gunicorn_logging`) for the app's and gunicorn's loggers;
the text is already redacted when the record is created (see :mod:`oss_server.logs`).
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from flask import g, has_request_context

from ..logs import redact

# Extra fields an access-log record may carry, copied into the JSON object when present.
_EXTRA = ("endpoint", "status", "duration_ms", "remote_addr")
# json.dumps with options builds a new encoder for every call; one line per request.
_ENCODE = json.JSONEncoder(ensure_ascii=False, default=str).encode


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message, request_id…"""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        # Records made through the redacting factory were cleaned once already; a record
        # made some other way (or changed since) is cleaned here.
        if message != getattr(record, "redacted_message", None):
            message = redact(message)
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        rid = getattr(record, "request_id", None)
        if rid is None and has_request_context():
            rid = g.get("request_id")
        if rid:
            entry["request_id"] = rid
        for name in _EXTRA:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            entry["exception"] = record.exc_text
        return _ENCODE(entry)
