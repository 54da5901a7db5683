"""Shopper lookups: failure counters shared by all workers, and per-day tallies per store."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class LookupFailures(Base):
    """Recent failed lookups of one bucket: a (store, order number as typed) or a client IP.

    The row is also the lock that makes check-and-count atomic across processes: a
    lookup upserts it first on PostgreSQL, which holds the row lock until its transaction
    ends; on SQLite the transaction begins IMMEDIATE and holds the write lock throughout.
    """

    __tablename__ = "lookup_failures"

    # SHA-256 of the bucket name, so neither typed order numbers nor IPs are stored.
    bucket: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Unix times of the latest failures (and of lookups still in flight), oldest first.
    failures: Mapped[list] = mapped_column(JSON, default=list)
    # When the longest window has passed over the newest failure: safe to delete.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LookupStat(Base):
    """How many shopper lookups of one store found an order, found none or were limited."""

    __tablename__ = "lookup_stats"

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    found: Mapped[int] = mapped_column(Integer, default=0)
    not_found: Mapped[int] = mapped_column(Integer, default=0)
    limited: Mapped[int] = mapped_column(Integer, default=0)
