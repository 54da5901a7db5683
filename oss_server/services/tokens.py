"""Signed, expiring status-page tokens: bookmarkable and safe to email."""
from __future__ import annotations

from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_SALT = "oss.status-page.v1"


class TokenError(Exception):
    """The token is malformed, forged or expired (``expired`` tells which)."""

    def __init__(self, expired: bool):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


@lru_cache(maxsize=8)
def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    # Built once per key: every status page reads a token, every lookup makes one.
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def make_status_token(secret_key: str, store_id: int, order_id: int) -> str:
    """Return a token naming one order of one store (no shopper data inside)."""
    return _serializer(secret_key).dumps([store_id, order_id])


def read_status_token(secret_key: str, token: str, max_age_days: int) -> tuple[int, int]:
    """Return (store_id, order_id) from a token younger than *max_age_days*."""
    serializer = _serializer(secret_key)
    try:
        store_id, order_id = serializer.loads(token, max_age=max_age_days * 86400)
    except SignatureExpired:
        raise TokenError(expired=True) from None
    except (BadSignature, ValueError, TypeError):
        raise TokenError(expired=False) from None
    return int(store_id), int(order_id)
