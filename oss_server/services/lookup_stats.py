"""Per-store, per-day tallies of shopper lookups: found, not found, limited."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session

from ..models import LookupStat, Store
from ..storage.fixed_reads import bind_processor, driver_execute, driver_mark

OUTCOMES = ("found", "not_found", "limited")


def record_lookup(db: Session | Connection, store: Store, day: date, outcome: str) -> None:
    """Add one lookup with *outcome* to the store's tally for *day* (on a session or connection)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    conn = db if isinstance(db, Connection) else db.connection()
    sql, to_day = _tally(conn.dialect, outcome)
    counts = [1 if name == outcome else 0 for name in OUTCOMES]
    driver_execute(conn, sql, [store.id, to_day(day), *counts])


_TALLIES: dict[tuple[str, str], tuple[str, Callable]] = {}


def _tally(dialect: Dialect, outcome: str) -> tuple[str, Callable]:
    """The tally's upsert in the driver's SQL, and the day's conversion (as Core stores it).

    One atomic upsert: concurrent workers add to the same row without losing counts. On
    the driver's cursor, as every shopper lookup runs one and Core's execution costs more
    than the statement.
    """
    key = (dialect.name, outcome)
    if key not in _TALLIES:
        table = LookupStat.__table__
        mark = driver_mark(dialect)
        columns = ("store_id", "day", *OUTCOMES)
        sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
               f"VALUES ({', '.join([mark] * len(columns))}) "
               f"ON CONFLICT (store_id, day) DO UPDATE SET {outcome} = {table.name}.{outcome} + 1")
        _TALLIES[key] = (sql, bind_processor(table.c.day.type, dialect))
    return _TALLIES[key]


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
