"""API keys: ``oss_<key id>_<secret>``, only a hash of the secret stored."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from ..models import ApiKey, Store, utcnow
from ..storage import DbSession

# last_used_at is written at most this often, so busy keys do not rewrite a row per batch.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def _hash_secret(secret: str) -> str:
    # The secret carries 256 random bits, so a fast hash is as strong as a slow one.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(session: DbSession, store: Store,
                   label: str | None = None) -> tuple[ApiKey, str]:
    """Create a key for *store*; return the row and the full key, shown only now."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(store=store, key_id=key_id, secret_hash=_hash_secret(secret),
                 label=(label or "").strip() or None)
    session.add(key)
    session.flush()
    return key, f"oss_{key_id}_{secret}"


def derived_key(seed: str, purpose: str) -> str:
    """Return a full key that is the same every time for *seed* and *purpose*.

    For the demo store: ``oss-server demo`` run again finds its key instead of adding one,
    and can print it, though only a hash of the secret is stored.
    """
    def part(name: str) -> bytes:
        return hmac.new(seed.encode(), f"{purpose}:{name}".encode(), hashlib.sha256).digest()

    secret = base64.urlsafe_b64encode(part("secret")).decode().rstrip("=")
    return f"oss_{part('id')[:8].hex()}_{secret}"


def ensure_key(session: DbSession, store: Store, full_key: str, label: str) -> ApiKey:
    """Return the store's key *full_key*, created first if it does not exist yet."""
    parsed = parse_key(full_key)
    if parsed is None:
        raise ValueError("not an API key of the form oss_<id>_<secret>")
    key_id, secret = parsed
    key = session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    if key is None:
        key = ApiKey(store=store, key_id=key_id, secret_hash=_hash_secret(secret), label=label)
        session.add(key)
        session.flush()
    return key


def parse_key(full_key: str) -> tuple[str, str] | None:
    """Split ``oss_<id>_<secret>`` into (id, secret); None when malformed."""
    parts = full_key.split("_", 2)
    if len(parts) != 3 or parts[0] != "oss" or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def check_key(session: DbSession, full_key: str,
              now: datetime | None = None) -> tuple[ApiKey | None, ApiKey | None, str | None]:
    """Return (active key, None, None), or (None, known key or None, why it was refused).

    The cause is named only for a key id that exists: ``revoked_key`` (its secret right,
    revoked), ``wrong_secret``; an unknown key id belongs to no store and has none.
    A key revoked with a grace period works until its ``revoked_at`` has passed.
    """
    parsed = parse_key(full_key.strip())
    if parsed is None:
        return None, None, None
    key_id, secret = parsed
    key = session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    expected = key.secret_hash if key is not None else "0" * 64
    if not hmac.compare_digest(expected, _hash_secret(secret)) or key is None:
        return None, key, "wrong_secret" if key is not None else None
    now = now or utcnow()
    if key.revoked_at is not None and key.revoked_at <= now:
        return None, key, "revoked_key"
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        key.last_used_at = now
    return key, None, None


def authenticate(session: DbSession, full_key: str, now: datetime | None = None) -> ApiKey | None:
    """Return the active key matching *full_key*, recording its use; else None."""
    return check_key(session, full_key, now)[0]


def list_keys(session: DbSession, store: Store) -> list[ApiKey]:
    """Return the store's keys, newest first."""
    return list(session.scalars(
        select(ApiKey).where(ApiKey.store_id == store.id).order_by(ApiKey.id.desc())))


def revoke_key(session: DbSession, store: Store, key_id: str,
               at: datetime | None = None) -> ApiKey | None:
    """Revoke one of the store's keys (at once, or at *at*); None when there is no such key.

    A key already revoked keeps the earlier of its two revocation times.
    """
    key = session.scalar(select(ApiKey).where(ApiKey.store_id == store.id,
                                              ApiKey.key_id == key_id))
    if key is None:
        return None
    at = at or utcnow()
    if key.revoked_at is None or key.revoked_at > at:
        key.revoked_at = at
        session.flush()
    return key


# The grace periods a merchant may pick when rotating, in hours; 24 is the default.
ROTATION_GRACE_HOURS = (0, 1, 24, 72, 168)


def rotate_key(session: DbSession, store: Store, key_id: str, grace: timedelta,
               now: datetime | None = None) -> tuple[ApiKey, str] | None:
    """Create the successor of an active key and revoke the old one after *grace*.

    Returns the new key and its full text (shown once), or None when the store has no
    such key still working.
    """
    now = now or utcnow()
    old = session.scalar(select(ApiKey).where(ApiKey.store_id == store.id,
                                              ApiKey.key_id == key_id))
    if old is None or (old.revoked_at is not None and old.revoked_at <= now):
        return None
    key, full_key = create_api_key(session, store, old.label)
    revoke_key(session, store, key_id, at=now + grace)
    return key, full_key


def key_state(key: ApiKey, now: datetime | None = None) -> str:
    """Say whether a key is ``active``, ``expiring`` (revoked later) or ``revoked``."""
    if key.revoked_at is None:
        return "active"
    return "expiring" if key.revoked_at > (now or utcnow()) else "revoked"
