"""What the store received, for the integrator: latest updates and per-day counts."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select

from ..models import Activity, Store
from ..storage import DbSession

OUTCOMES = ("applied", "duplicate", "stale", "rejected", "refused")


def record_refused(session: DbSession, store: Store, code: str, message: str) -> None:
    """Note a whole request of the store's key that was refused (bad signature, bad body…).

    Such a request stores no update, yet it is the integrator's first question ("why did
    nothing show?"): the Activity page shows it with the answer the sender got.
    """
    session.add(Activity(store_id=store.id, outcome="refused", errors={code: message}))
    session.flush()


def recent_activity(session: DbSession, store: Store, outcome: str | None = None,
                    limit: int = 100) -> list[Activity]:
    """Return the store's latest received updates, newest first, optionally of one outcome."""
    statement = select(Activity).where(Activity.store_id == store.id)
    if outcome in OUTCOMES:
        statement = statement.where(Activity.outcome == outcome)
    return list(session.scalars(statement.order_by(Activity.received_at.desc(),
                                                   Activity.id.desc()).limit(limit)))


def day_range(today: date, days: int) -> list[date]:
    """Return the *days* calendar days ending with *today*, oldest first."""
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def _as_date(value) -> date:
    # SQLite's date() returns text, PostgreSQL's a date.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def daily_update_counts(session: DbSession, store: Store, today: date,
                        days: int = 30) -> dict[str, dict[date, int]]:
    """Count received updates per UTC day and outcome over the last *days* days."""
    since = datetime.combine(today - timedelta(days=days - 1), time.min, tzinfo=timezone.utc)
    day = func.date(Activity.received_at)
    rows = session.execute(
        select(day, Activity.outcome, func.count())
        .where(Activity.store_id == store.id, Activity.received_at >= since)
        .group_by(day, Activity.outcome))
    counts: dict[str, dict[date, int]] = {outcome: {} for outcome in OUTCOMES}
    for raw_day, outcome, count in rows:
        counts.setdefault(outcome, {})[_as_date(raw_day)] = count
    return counts

