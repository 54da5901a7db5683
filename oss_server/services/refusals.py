"""Refused API requests, tallied per store, hour, cause and key id for the dashboard."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from ..models import ApiRefusal, Store, utcnow
from ..models.base import rows_changed
from ..storage import DbSession
from ..storage.tallies import add_refusal

# The causes a merchant can act on, with the words the dashboard uses for them.
CAUSES = {
    "revoked_key": "Revoked API key",
    "wrong_secret": "Known key id with a wrong secret",
    "subscription_expired": "Subscription lapsed",
    "invalid_signature": "Missing or bad signature",
}


def count_refusal(session: DbSession, store_id: int, cause: str, key_id: str = "",
                  now: datetime | None = None) -> None:
    """Add one refused request to the store's tally for this hour (an atomic upsert)."""
    if cause not in CAUSES:
        raise ValueError(f"unknown refusal cause {cause!r}")
    hour = (now or utcnow()).replace(minute=0, second=0, microsecond=0)
    add_refusal(session, store_id, hour, cause, key_id or "")


def refusals_since(session: DbSession, store: Store, since: datetime) -> list[dict]:
    """Return the store's refused requests since *since* by cause and key id, most first.

    Counted by the hour: the oldest hour is taken whole, so a figure may include up to
    an hour more than the window.
    """
    start = since.replace(minute=0, second=0, microsecond=0)
    total = func.sum(ApiRefusal.count)
    rows = session.execute(
        select(ApiRefusal.cause, ApiRefusal.key_id, total)
        .where(ApiRefusal.store_id == store.id, ApiRefusal.hour >= start)
        .group_by(ApiRefusal.cause, ApiRefusal.key_id)
        .order_by(total.desc(), ApiRefusal.cause, ApiRefusal.key_id))
    return [{"cause": cause, "label": CAUSES.get(cause, cause), "key_id": key_id or None,
             "count": int(count)} for cause, key_id, count in rows]


def purge_refusals(session: DbSession, now: datetime, days: int = 30) -> int:
    """Delete tallies older than *days*; return how many rows went."""
    cutoff = now - timedelta(days=days)
    result = session.execute(delete(ApiRefusal).where(ApiRefusal.hour < cutoff))
    return rows_changed(result)
