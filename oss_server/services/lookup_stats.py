"""Per-store, per-day tallies of shopper lookups: found, not found, limited."""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..models import LookupStat, Store

OUTCOMES = ("found", "not_found", "limited")


def record_lookup(db: Session | Connection, store: Store, day: date, outcome: str) -> None:
    """Add one lookup with *outcome* to the store's tally for *day* (on a session or connection)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    row = {"store_id": store.id, "day": day, **{name: 0 for name in OUTCOMES}}
    row[outcome] = 1
    dialect = db.dialect if isinstance(db, Connection) else db.get_bind().dialect
    db.execute(_tally_statement(dialect.name, outcome), row)


@lru_cache(maxsize=None)
def _tally_statement(dialect_name: str, outcome: str):
    # One atomic upsert: concurrent workers add to the same row without losing counts.
    # Built once per outcome, as every shopper lookup runs one.
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    table = LookupStat.__table__
    return dialect.insert(table).on_conflict_do_update(
        index_elements=[table.c.store_id, table.c.day], set_={outcome: table.c[outcome] + 1})


def daily_lookup_stats(session: Session, store: Store, today: date, days: int = 30) -> list[dict]:
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
