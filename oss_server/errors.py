"""Domain errors and the one JSON error envelope."""
from __future__ import annotations

import logging
import math
import time

from flask import Flask, jsonify, request
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class OSSError(Exception):
    """Root of the service's own errors: each carries an HTTP status and a code."""

    status = 400
    code = "bad_request"
    message = "The request could not be handled."
    retry_after: int | None = None

    def __init__(self, message: str | None = None, *, retry_after: int | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        if retry_after is not None:
            self.retry_after = retry_after


class BadRequest(OSSError):
    status, code = 400, "bad_request"


class InvalidApiKey(OSSError):
    status, code, message = 401, "invalid_api_key", "Missing, wrong or revoked API key."


class InvalidSignature(OSSError):
    status, code, message = 401, "invalid_signature", "Missing or invalid OSS-Signature."


class SubscriptionExpired(OSSError):
    status, code = 402, "subscription_expired"
    message = "The store's subscription has lapsed; renew it to resume updates."

    def __init__(self, store=None):
        super().__init__()
        self.store = store  # whose key it was: the update endpoint notes the refusal


class NotFound(OSSError):
    status, code, message = 404, "not_found", "Not found."


class PayloadTooLarge(OSSError):
    status, code, message = 413, "payload_too_large", "The body or batch is too large."


class UnsupportedMediaType(OSSError):
    status, code, message = 415, "unsupported_media_type", "Send Content-Type: application/json."


class RateLimited(OSSError):
    status, code, message = 429, "rate_limited", "Too many requests; retry later."


class StorageUnavailable(OSSError):
    status, code, message = 503, "storage_unavailable", "Storage is unavailable; retry later."


def error_response(status: int, code: str, message: str, retry_after: int | None = None):
    """Build the JSON error envelope."""
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(int(retry_after))
    return response


def wants_json() -> bool:
    """Tell whether the current request should get a JSON error."""
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "payload_too_large",
               415: "unsupported_media_type", 429: "rate_limited"}


def _limit_wait(app: Flask) -> int:
    """Seconds until the rate limit that refused this request lets one through again."""
    from .extensions import limiter

    current = limiter.current_limit
    if current is None:
        return app.config["OSS_RETRY_AFTER_S"]
    return max(1, math.ceil(current.reset_at - time.time()))


def register_error_handlers(app: Flask) -> None:
    """Install the JSON envelope for the API and rollbacks for every failure."""
    from .extensions import db

    @app.errorhandler(OSSError)
    def handle_oss_error(exc: OSSError):
        db.session.rollback()
        retry = exc.retry_after if exc.retry_after is not None else (
            app.config["OSS_RETRY_AFTER_S"] if exc.status in (429, 503) else None)
        return error_response(exc.status, exc.code, exc.message, retry)

    @app.errorhandler(DataError)
    def handle_unstorable_value(exc):
        # A value the database refuses (a NUL byte in PostgreSQL text, a number out of the
        # column's range) is the request's fault: retrying it can never succeed.
        db.session.rollback()
        log.info("database refused a value: %s", type(exc.orig).__name__ if exc.orig else exc)
        if not wants_json():
            return "The request holds a value that cannot be stored.", 400
        return error_response(400, "bad_request",
                              "The request holds a value that cannot be stored.")

    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def handle_db_down(exc):
        # Connection-level failures are temporary: tell the client to come back. Redis holds
        # the lookup counters: without it no lookup is answered (fail closed), never unlimited.
        db.session.rollback()
        log.warning("storage error: %s", type(getattr(exc, "orig", None) or exc).__name__)
        if not wants_json():
            return "Service temporarily unavailable. Please try again shortly.", 503, {
                "Retry-After": str(app.config["OSS_RETRY_AFTER_S"])}
        return error_response(503, "storage_unavailable", StorageUnavailable.message,
                              app.config["OSS_RETRY_AFTER_S"])

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        if not wants_json():
            return exc
        code = _HTTP_CODES.get(exc.code or 500, "error")
        retry = _limit_wait(app) if exc.code == 429 else None
        response = error_response(exc.code or 500, code, exc.description or code, retry)
        retry_after = getattr(exc, "retry_after", None)
        if exc.code == 429 and retry_after:
            response.headers["Retry-After"] = str(int(retry_after))
        valid_methods = getattr(exc, "valid_methods", None)
        if exc.code == 405 and valid_methods:
            # RFC 9110: a 405 lists the methods the resource does support.
            response.headers["Allow"] = ", ".join(valid_methods)
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        # Never a traceback to the client; the log has it (values are redacted there).
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return error_response(500, "internal_error", "An internal error occurred.")
        return "An internal error occurred.", 500
