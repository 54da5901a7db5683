"""Per-store, per-day tallies of shopper lookups: found, not found, limited."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ..models import LookupStat, Store
from ..storage import DbSession
from ..storage.lookups import LOOKUP_OUTCOMES, add_to_tally

OUTCOMES = LOOKUP_OUTCOMES


def record_lookup(db: DbSession | Connection, store: Store, day: date, outcome: str) -> None:
    """Add one lookup with *outcome* to the store's tally for *day* (on a session or connection)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    add_to_tally(db if isinstance(db, Connection) else db.connection(), store.id, day, outcome)


def daily_lookup_stats(session: DbSession, store: Store, today: date, days: int = 30) -> list[dict]:
    """Return one row per day (oldest first, zeros where nothing happened) for a chart."""
    start = today - timedelta(days=days - 1)
    rows = {row.day: row for row in session.scalars(
        select(LookupStat).where(LookupStat.store_id == store.id, LookupStat.day >= start))}
    out = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        row = rows.get(day)
        out.append({"day": day, **{name: getattr(row, name) if row else 0 for name in OUTCOMES}})
    return out
