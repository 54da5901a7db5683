"""``OSS-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``."""
from __future__ import annotations

import hashlib
import hmac
import re
import time

TOLERANCE_S = 300
# ASCII only: str.isdigit() admits "²" and other digits int() refuses, and a non-ASCII
# string makes hmac.compare_digest raise. Bounded: a timestamp has at most 12 digits.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_MAC = re.compile(r"[0-9a-f]{64}")


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """Return the header value signing *body* with *secret*."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(header: str | None, body: bytes, secrets: list[str], now: float | None = None,
           tolerance: int = TOLERANCE_S) -> bool:
    """Check the header over the raw *body* against any of *secrets* (rotation)."""
    if not header or not secrets:
        return False
    timestamp, candidates = None, []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        value = value.strip()
        if name == "t" and _TIMESTAMP.fullmatch(value):
            timestamp = int(value)
        elif name == "v1" and _MAC.fullmatch(value.lower()):
            candidates.append(value.lower())
    now = time.time() if now is None else now
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance:
        return False
    payload = f"{timestamp}.".encode() + body
    ok = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
        for candidate in candidates:
            # Check every pair so the time taken does not reveal which one matched.
            ok |= hmac.compare_digest(expected, candidate)
    return ok
