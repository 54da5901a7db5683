"""Server-side records of signed-in portal sessions.

The cookie carries a random token; a session counts only while its hashed token is on
file. Signing out deletes the record, so a copy of the cookie stops working at once.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select

from ..models import Merchant, PortalSession
from ..storage import DbSession

# Matches the portal's absolute session timeout: an older record can never be used again.
MAX_AGE = timedelta(hours=12)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: DbSession, merchant: Merchant) -> str:
    """Record a new signed-in session for *merchant*; return the token for its cookie."""
    now = datetime.now(timezone.utc)
    # Housekeeping on the way in: the merchant's records past the absolute timeout.
    session.execute(delete(PortalSession).where(PortalSession.merchant_id == merchant.id,
                                                PortalSession.created_at < now - MAX_AGE))
    token = secrets.token_urlsafe(32)
    session.add(PortalSession(token_hash=_hash(token), merchant_id=merchant.id, created_at=now))
    session.flush()
    return token


def is_open(session: DbSession, merchant_id: int, token: str | None) -> bool:
    """Tell whether *token* is a live session of *merchant_id*."""
    if not token:
        return False
    found = session.scalar(select(PortalSession.merchant_id)
                           .where(PortalSession.token_hash == _hash(token)))
    return found == merchant_id


def close_session(session: DbSession, token: str | None) -> None:
    """Forget one session (signing out)."""
    if token:
        session.execute(delete(PortalSession).where(PortalSession.token_hash == _hash(token)))


def close_all(session: DbSession, merchant: Merchant) -> None:
    """Forget every session of *merchant* (a new password ends them all)."""
    session.execute(delete(PortalSession).where(PortalSession.merchant_id == merchant.id))
