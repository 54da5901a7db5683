"""Sending one batch: request body, signing, the POST, and the one classifier of the answer."""

from __future__ import annotations

import hashlib
import hmac
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from ._version import __version__

# What happens to a whole request ...
DELIVER = "deliver"   # the receiver answered per update; see Verdict.records
RETRY = "retry"       # send the same batch again after a backoff
SPLIT = "split"       # 413, 400, 422: halve the batch to find the update at fault (one goes dead)
PAUSE = "pause"       # key or subscription problem: stop sending until it is fixed
# ... and to one update inside a DELIVER verdict.
DEAD = "dead"

DONE_RESULTS = {"applied", "duplicate", "stale"}
RETRY_STATUSES = {408, 425, 429}
PAUSE_STATUSES = {401, 402, 403}
SPLIT_STATUSES = {413, 400, 422}  # too large, or refused as malformed: some update is at fault
MAX_RETRY_AFTER = 3600.0


@dataclass
class Verdict:
    """The classified outcome of one POST."""

    action: str
    reason: str = ""
    status: int | None = None
    retry_after: float | None = None
    # update_id -> (DELIVER | DEAD | RETRY, errors)
    records: dict[str, tuple[str, Any]] = field(default_factory=dict)
    body: object = None   # the receiver's answer to a refused request (JSON, or text)
    detail: str | None = None  # the raw error behind a plain reason, for --json output


def build_body(records: Sequence[Any]) -> bytes:
    """Return the request body for claimed records, reusing their stored JSON."""
    return ('{"updates":[' + ",".join(r.body for r in records) + "]}").encode("utf-8")


def signature(secret: str, body: bytes, timestamp: float) -> str:
    """Return the OSS-Signature header value: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    t = int(timestamp)
    mac = hmac.new(secret.encode("utf-8"), f"{t}.".encode("ascii") + body, hashlib.sha256)
    return f"t={t},v1={mac.hexdigest()}"


def headers_for(config: Any, body: bytes, timestamp: float | None = None) -> dict[str, str]:
    """Return the request headers for a body (auth, content type, optional signature)."""
    headers = {"Content-Type": "application/json",
               "Authorization": f"Bearer {config.api_key}",
               "User-Agent": f"seom-client/{__version__}"}
    if config.signing_secret:
        ts = time.time() if timestamp is None else timestamp
        headers["OSS-Signature"] = signature(config.signing_secret, body, ts)
    return headers


def post(session: requests.Session, config: Any,
         body: bytes) -> requests.Response | requests.RequestException:
    """POST a body to the receiver; return the Response, or the exception a network error raised."""
    timeout = config.setting("timeout_s")
    try:
        return session.post(config.endpoint, data=body, headers=headers_for(config, body),
                            timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        return exc


def backoff_delay(attempt: int, base: float, cap: float,
                  rand: Callable[[], float] = random.random) -> float:
    """Return a capped exponential backoff, full jitter: uniform(0, min(cap, base*2**attempt))."""
    # 2 ** n for n >= 0 is an int; typeshed types int ** int as Any (a negative n is a float).
    return rand() * min(cap, base * float(2 ** min(attempt, 32)))


def parse_retry_after(value: str | None) -> float | None:
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


def describe_network_error(exc: BaseException, url: str | None = None) -> str:
    """Return one plain sentence for a network error (the raw text is long and technical)."""
    target = url or getattr(getattr(exc, "request", None), "url", None) or ""
    host = urlsplit(target).netloc or "the receiver"
    text = str(exc).lower()
    if isinstance(exc, requests.exceptions.SSLError):
        if "certificate" in text or "cert" in text:
            return f"the TLS certificate of {host} could not be verified"
        return f"a secure (TLS) connection to {host} could not be made"
    if isinstance(exc, requests.exceptions.Timeout):
        return f"{host} did not answer in time"
    if isinstance(exc, requests.exceptions.ConnectionError):
        if "name or service not known" in text or "nodename nor servname" in text \
                or "getaddrinfo failed" in text or "name resolution" in text:
            return f"the host name {host.rsplit(':', 1)[0]} could not be found"
        if "refused" in text:
            return f"nothing is listening at {host} (connection refused)"
        if "reset" in text or "aborted" in text or "remotedisconnected" in text:
            return f"{host} closed the connection before answering"
        return f"{host} could not be reached"
    return f"the request to {host} failed ({type(exc).__name__})"


def error_text(response: requests.Response) -> str:
    """Return 'HTTP <status> <code>: <message>' from an error envelope (or the raw status)."""
    text = f"HTTP {response.status_code}"
    try:
        error = response.json()["error"]
        return f"{text} {error.get('code', '')}: {error.get('message', '')}".strip()
    except (ValueError, KeyError, TypeError, AttributeError):
        return text


def _answer_body(response: requests.Response) -> Any:
    """Return the receiver's answer as JSON when it is JSON, else its first 2,000 characters."""
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]


def classify(response: requests.Response | BaseException,
             update_ids: Sequence[str]) -> Verdict:
    """Classify a POST's outcome (a Response or a network exception) for the given update ids.

    applied/duplicate/stale -> deliver; rejected -> dead; network errors,
    timeouts, 408, 429, 5xx, unreadable answers -> retry; 401/402/403 -> pause;
    413, 400, 422 -> split the batch (a single update so answered goes dead).
    """
    if isinstance(response, BaseException):
        return Verdict(RETRY, f"network error: {describe_network_error(response)}",
                       detail=f"{type(response).__name__}: {response}")
    status = response.status_code
    if status in PAUSE_STATUSES:
        return Verdict(PAUSE, error_text(response), status)
    if status in SPLIT_STATUSES:
        # 413: too large. 400/422: a receiver (often a generic cart) refusing the request as
        # malformed because of something in one update. Halving the batch finds the update
        # at fault; alone, it goes to the dead-letter list with the receiver's body and the
        # order's later updates proceed, as SPEC §3 says. Retrying it forever would stall
        # the order.
        return Verdict(SPLIT, error_text(response), status, body=_answer_body(response))
    if status != 200:
        # 408, 429, 5xx and anything unexpected (a 404 from a misrouted proxy, say): the
        # records are not at fault, so they wait and go again; nothing is ever dropped here.
        return Verdict(RETRY, error_text(response), status,
                       parse_retry_after(response.headers.get("Retry-After")))
    try:
        results = response.json()["results"]
        by_id = {r["update_id"]: r for r in results if isinstance(r, dict) and "update_id" in r}
    except (ValueError, KeyError, TypeError):
        return Verdict(RETRY, "HTTP 200 with an unreadable body", status)
    records: dict[str, tuple[str, Any]] = {}
    for uid in update_ids:
        result = by_id.get(uid)
        outcome = result.get("result") if result else None
        if outcome in DONE_RESULTS:
            records[uid] = (DELIVER, None)
        elif outcome == "rejected":
            records[uid] = (DEAD, (result or {}).get("errors") or {"update": ["rejected"]})
        else:
            records[uid] = (RETRY, None)  # missing or unknown result: ask again later
    return Verdict(DELIVER, "", status, records=records)
