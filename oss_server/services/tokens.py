"""Signed, expiring status-page tokens: bookmarkable and safe to email."""
from __future__ import annotations

import hmac
import zlib
from functools import lru_cache
from typing import cast

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, int_to_bytes

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


class _TokenSigner:
    """The serializer's ``dumps([store_id, order_id])``, with its keyed HMAC prepared once.

    itsdangerous derives the signing key and keys a new HMAC for every token, and
    serializes the two numbers through its JSON and compression steps: most of a
    lookup's token cost. The token is byte for byte the serializer's (a test compares
    them), so links already sent and ``read_status_token`` are unaffected.
    """

    def __init__(self, secret_key: str):
        # A timed serializer makes timestamp signers; its type says only Signer.
        signer = cast(TimestampSigner, _serializer(secret_key).make_signer())
        self._sep = signer.sep
        self._timestamp = signer.get_timestamp
        self._keyed = hmac.new(signer.derive_key(), digestmod=signer.digest_method)

    def dumps(self, store_id: int, order_id: int) -> str:
        payload = f"[{int(store_id)},{int(order_id)}]".encode()  # the serializer's compact JSON
        compressed = zlib.compress(payload)
        body = (b"." + base64_encode(compressed) if len(compressed) < len(payload) - 1
                else base64_encode(payload))
        value = body + self._sep + base64_encode(int_to_bytes(self._timestamp()))
        mac = self._keyed.copy()
        mac.update(value)
        return (value + self._sep + base64_encode(mac.digest())).decode("ascii")


@lru_cache(maxsize=8)
def _signer(secret_key: str) -> _TokenSigner:
    return _TokenSigner(secret_key)


def make_status_token(secret_key: str, store_id: int, order_id: int) -> str:
    """Return a token naming one order of one store (no shopper data inside)."""
    return _signer(secret_key).dumps(store_id, order_id)


def read_status_token(secret_key: str, token: str, max_age_days: int) -> tuple[int, int]:
    """Return (store_id, order_id) from a token younger than *max_age_days*."""
    serializer = _serializer(secret_key)
    try:
        store_id, order_id = serializer.loads(token, max_age=max_age_days * 86400)
        store_id, order_id = int(store_id), int(order_id)
    except SignatureExpired:
        raise TokenError(expired=True) from None
    except (BadSignature, ValueError, TypeError):
        raise TokenError(expired=False) from None
    # Ids are 64-bit: a larger number names no row, and SQLite's driver cannot bind it.
    if not (0 < store_id < 2**63 and 0 < order_id < 2**63):
        raise TokenError(expired=False)
    return store_id, order_id
