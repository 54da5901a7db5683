"""Per-request id and access log line, shared by every blueprint."""
from __future__ import annotations

import logging
import re
import secrets
import time

from flask import Flask, g, request

from . import metrics

access_log = logging.getLogger("oss_server.access")

# An incoming id is kept only when it is short and plain: anything else could smuggle
# log-injection or a secret into every line written about the request.
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def request_id() -> str | None:
    """Return the current request's id (None outside a request)."""
    return g.get("request_id")


def new_request_id() -> str:
    """Return a fresh id: URL-safe base64, so it never looks like a redactable digit run."""
    return secrets.token_urlsafe(12)


def _incoming_id() -> str | None:
    value = request.headers.get("X-Request-ID", "")
    return value if _SANE_ID.fullmatch(value) else None


def logged_path() -> str:
    """The request's path as the access log shows it: the query string left out.

    A query string may carry what a client should never have sent. A link's token in the
    path (status page, password reset) is masked by the log redaction, as in every other
    line that quotes a path (see :mod:`oss_server.logs`).
    """
    return request.path


def init_app(app: Flask) -> None:
    """Give each request an id, echo it as X-Request-ID, log and count the request."""

    def _start():
        g.request_id = _incoming_id() or new_request_id()
        g.request_started = time.perf_counter()

    # First of all before-request hooks, so a request refused by a later one (rate limit,
    # CSRF) still has its id and duration.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)

    @app.after_request
    def _finish(response):
        # One context lookup, not one per field (a LocalProxy method the stubs omit).
        req = request._get_current_object()  # type: ignore[attr-defined]
        rid = g.get("request_id") or new_request_id()
        response.headers["X-Request-ID"] = rid
        started = g.get("request_started")
        duration = time.perf_counter() - started if started is not None else 0.0
        endpoint, method, status = req.endpoint or "unmatched", req.method, response.status_code
        metrics.observe_request(endpoint, method, status, duration)
        access_log.info("%s %s %s", method, logged_path(), status,
                        extra={"request_id": rid, "endpoint": endpoint, "status": status,
                               "duration_ms": round(duration * 1000, 1),
                               "remote_addr": req.remote_addr})
        return response
