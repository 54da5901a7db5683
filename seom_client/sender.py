"""Sending one batch: request body, signing, the POST, and the one function that classifies the answer."""

import hashlib
import hmac
import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import requests

from . import __version__

# What happens to a whole request ...
DELIVER = "deliver"   # the receiver answered per update; see Verdict.records
RETRY = "retry"       # send the same batch again after a backoff
SPLIT = "split"       # the batch is too large (413); halve it (a single update goes dead)
PAUSE = "pause"       # key or subscription problem: stop sending until it is fixed
# ... and to one update inside a DELIVER verdict.
DEAD = "dead"

DONE_RESULTS = {"applied", "duplicate", "stale"}
RETRY_STATUSES = {408, 425, 429}
PAUSE_STATUSES = {401, 402, 403}
SPLIT_STATUSES = {413}
REFUSED_STATUSES = {400, 422}  # the whole request refused: retried, never dead-lettered
MAX_RETRY_AFTER = 3600.0


@dataclass
class Verdict:
    """The classified outcome of one POST."""

    action: str
    reason: str = ""
    status: int | None = None
    retry_after: float | None = None
    records: dict = field(default_factory=dict)  # update_id -> (DELIVER | DEAD | RETRY, errors)


def build_body(records):
    """Return the request body for claimed records, reusing their stored JSON."""
    return ('{"updates":[' + ",".join(r.body for r in records) + "]}").encode("utf-8")


def signature(secret, body, timestamp):
    """Return the OSS-Signature header value: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    t = int(timestamp)
    mac = hmac.new(secret.encode("utf-8"), f"{t}.".encode("ascii") + body, hashlib.sha256)
    return f"t={t},v1={mac.hexdigest()}"


def headers_for(config, body, timestamp=None):
    """Return the request headers for a body (auth, content type, optional signature)."""
    headers = {"Content-Type": "application/json",
               "Authorization": f"Bearer {config.api_key}",
               "User-Agent": f"seom-client/{__version__}"}
    if config.signing_secret:
        ts = time.time() if timestamp is None else timestamp
        headers["OSS-Signature"] = signature(config.signing_secret, body, ts)
    return headers


def post(session, config, body):
    """POST a body to the receiver; return the Response, or the exception a network error raised."""
    timeout = config.setting("timeout_s")
    try:
        return session.post(config.endpoint, data=body, headers=headers_for(config, body),
                            timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        return exc


def backoff_delay(attempt, base, cap, rand=random.random):
    """Return a capped exponential backoff with full jitter: uniform(0, min(cap, base*2**attempt))."""
    return rand() * min(cap, base * (2 ** min(attempt, 32)))


def parse_retry_after(value):
    """Return Retry-After (seconds or HTTP date) as seconds, or None when absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _error_text(response):
    """Return 'HTTP <status> <code>: <message>' from an error envelope (or the raw status)."""
    text = f"HTTP {response.status_code}"
    try:
        error = response.json()["error"]
        return f"{text} {error.get('code', '')}: {error.get('message', '')}".strip()
    except (ValueError, KeyError, TypeError, AttributeError):
        return text


def classify(response, update_ids):
    """Classify a POST's outcome (a Response or a network exception) for the given update ids.

    applied/duplicate/stale -> deliver; rejected -> dead; network errors,
    timeouts, 408, 400, 422, 429, 5xx, unreadable answers -> retry;
    401/402/403 -> pause; 413 -> split the batch (it is too large).
    """
    if isinstance(response, BaseException):
        return Verdict(RETRY, f"network error: {type(response).__name__}: {response}")
    status = response.status_code
    if status in PAUSE_STATUSES:
        return Verdict(PAUSE, _error_text(response), status)
    if status in SPLIT_STATUSES:
        return Verdict(SPLIT, _error_text(response), status)
    if status in REFUSED_STATUSES:
        # A whole-request 400/422 is never one record's fault: the receiver judges each
        # update on its own and answers a bad one with a per-update `rejected` in a 200.
        # The client builds the envelope itself from updates it checked when queuing, so
        # a 400/422 comes from a proxy, a WAF or a misconfigured cart, and splitting would
        # dead-letter the whole queue record by record. Retry with backoff instead: nothing
        # is lost, `status` shows the refusal, and sending resumes once it is fixed.
        return Verdict(RETRY, f"the receiver refused the request: {_error_text(response)}",
                       status, parse_retry_after(response.headers.get("Retry-After")))
    if status != 200:
        # 408, 429, 5xx and anything unexpected (a 404 from a misrouted proxy, say): the
        # records are not at fault, so they wait and go again; nothing is ever dropped here.
        return Verdict(RETRY, _error_text(response), status,
                       parse_retry_after(response.headers.get("Retry-After")))
    try:
        results = response.json()["results"]
        by_id = {r["update_id"]: r for r in results if isinstance(r, dict) and "update_id" in r}
    except (ValueError, KeyError, TypeError):
        return Verdict(RETRY, "HTTP 200 with an unreadable body", status)
    records = {}
    for uid in update_ids:
        result = by_id.get(uid)
        outcome = result.get("result") if result else None
        if outcome in DONE_RESULTS:
            records[uid] = (DELIVER, None)
        elif outcome == "rejected":
            records[uid] = (DEAD, result.get("errors") or {"update": ["rejected"]})
        else:
            records[uid] = (RETRY, None)  # missing or unknown result: ask again later
    return Verdict(DELIVER, "", status, records=records)
