"""A store's health at a glance: is the order manager's integration working?"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import distinct, func, select

from ..models import Activity, LookupStat, Store, utcnow
from ..storage import DbSession
from . import accounts, lookup_stats
from .refusals import refusals_since

WINDOW = timedelta(hours=24)
# "A steady flow": updates arrived on at least this many of the week before the silent day.
STEADY_DAYS = 3
STEADY_WEEK = timedelta(days=7)


@dataclass
class StoreHealth:
    """The figures of a store's dashboard; ``warnings`` are plain sentences, worst first."""

    store: Store
    last_received_at: datetime | None
    counts: dict[str, int]
    refusals: list[dict]
    lookups_today: dict[str, int]
    subscription: dict
    warnings: list[str] = field(default_factory=list)

    @property
    def refused(self) -> int:
        """Requests refused in the window, whatever the cause."""
        return sum(row["count"] for row in self.refusals)

    @property
    def state(self) -> str:
        """``problem``, ``warning``, ``new`` (nothing received yet) or ``healthy``."""
        if self.subscription["lapsed"] or self.refused:
            return "problem"
        if self.warnings or self.counts.get("rejected"):
            return "warning"
        return "new" if self.last_received_at is None else "healthy"


def _last_received(session: DbSession, store: Store) -> datetime | None:
    return session.scalar(select(func.max(Activity.received_at))
                          .where(Activity.store_id == store.id, Activity.outcome != "refused"))


def _outcomes_since(session: DbSession, store: Store, since: datetime) -> dict[str, int]:
    rows = session.execute(select(Activity.outcome, func.count())
                           .where(Activity.store_id == store.id, Activity.received_at >= since)
                           .group_by(Activity.outcome))
    counts = {outcome: 0 for outcome in ("applied", "duplicate", "stale", "rejected")}
    counts.update({outcome: count for outcome, count in rows if outcome != "refused"})
    return counts


def _steady_before(session: DbSession, store: Store, until: datetime) -> bool:
    """Tell whether updates arrived on at least STEADY_DAYS distinct days of the week before."""
    days = session.scalar(select(func.count(distinct(func.date(Activity.received_at))))
                          .where(Activity.store_id == store.id, Activity.outcome != "refused",
                                 Activity.received_at >= until - STEADY_WEEK,
                                 Activity.received_at < until))
    return (days or 0) >= STEADY_DAYS


def _lookups_on(session: DbSession, store: Store, day: date) -> dict[str, int]:
    row = session.get(LookupStat, (store.id, day))
    return {name: getattr(row, name) if row else 0 for name in lookup_stats.OUTCOMES}


def store_health(session: DbSession, store: Store, grace_days: int,
                 now: datetime | None = None) -> StoreHealth:
    """Gather a store's dashboard: last update, 24-hour outcomes, refusals, lookups today."""
    now = now or utcnow()
    since = now - WINDOW
    last = _last_received(session, store)
    health = StoreHealth(
        store=store, last_received_at=last, counts=_outcomes_since(session, store, since),
        refusals=refusals_since(session, store, since),
        # Lookups are tallied per UTC day, as the Activity charts show them.
        lookups_today=_lookups_on(session, store, now.date()),
        subscription=accounts.subscription_state(store.merchant, now.date(), grace_days))
    health.warnings = _warnings(session, health, now)
    return health


def _warnings(session: DbSession, health: StoreHealth, now: datetime) -> list[str]:
    out = []
    if health.subscription["lapsed"]:
        out.append("The subscription has lapsed: the API refuses updates (402) and shoppers "
                   "see that the service is unavailable.")
    last = health.last_received_at
    if last is not None and now - last >= WINDOW and _steady_before(session, health.store,
                                                                     now - WINDOW):
        out.append(f"Nothing has arrived for {since_words(last, now)}, after a steady flow "
                   "of updates. Check that the order manager's client is running "
                   "(seom-client status).")
    for row in health.refusals:
        if row["cause"] == "revoked_key":
            out.append(f"Requests are still sent with the revoked key {row['key_id']}: "
                       "give the order manager a current key.")
        elif row["cause"] == "invalid_signature":
            out.append("Requests arrive without a valid signature: check the signing secret "
                       "in the order manager's client.")
        elif row["cause"] == "wrong_secret":
            out.append(f"Requests name key {row['key_id']} with a wrong secret: the key was "
                       "copied incompletely, or someone is guessing.")
    return out


def since_words(moment: datetime, now: datetime | None = None) -> str:
    """Say how long ago *moment* was, in plain words ("3 hours", "2 days")."""
    seconds = max(int(((now or utcnow()) - moment).total_seconds()), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            amount = seconds // size
            return f"{amount} {unit}{'' if amount == 1 else 's'}"
    return "less than a minute"


def merchant_health(session: DbSession, stores: list[Store], grace_days: int,
                    now: datetime | None = None) -> list[StoreHealth]:
    """Return the dashboard of each of a merchant's stores, in the order given."""
    now = now or utcnow()
    return [store_health(session, store, grace_days, now) for store in stores]
