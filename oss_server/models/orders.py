"""Orders as the latest snapshot received, with their lines, tracking and history."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        # Each read of orders can be served by one index only, so the plan is the same
        # whether or not the database has statistics (before its first ANALYZE PostgreSQL
        # rates every index on `store_id = ?` alike and took whichever came first). The
        # number indexes lead with their number; the only index leading with store_id is
        # partial, so only reads that name updated_at use it (`of_store`, below).
        UniqueConstraint("order_key", "store_id", name="uq_orders_store_order_key"),
        Index("ix_orders_store_cart_key", "cart_key", "store_id"),
        # With id the store's orders come newest first without a sort.
        Index("ix_orders_store_updated", "store_id", "updated_at", "id",
              sqlite_where=text("updated_at IS NOT NULL"),
              postgresql_where=text("updated_at IS NOT NULL")),
        # Status links name an order by id: SQLite must never hand a deleted order's id
        # to a new one (without AUTOINCREMENT it reuses the highest id once deleted).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    order_number: Mapped[str] = mapped_column(String(64))
    # Trimmed, case-folded numbers: what a shopper types is compared with these.
    order_key: Mapped[str] = mapped_column(String(64))
    cart_order_number: Mapped[str | None] = mapped_column(String(64))
    cart_key: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(64))
    bill_to_name: Mapped[str | None] = mapped_column(String(200))
    ship_to_name: Mapped[str | None] = mapped_column(String(200))
    # Verification factors, only as keyed hashes; the email in clear only while
    # the store sends shopper emails.
    zip_hash: Mapped[str | None] = mapped_column(String(64))
    email_hash: Mapped[str | None] = mapped_column(String(64))
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    expected_ship_date: Mapped[date | None] = mapped_column(Date)
    actual_ship_date: Mapped[date | None] = mapped_column(Date)
    # Ordering key of the snapshot held: an older or equal key never overwrites it.
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The client's counter: 0 … 2^63−1 (a millisecond clock is a fine one).
    sequence: Mapped[int] = mapped_column(BigInteger)
    last_update_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The language the shopper last looked the order up in: their status emails use it.
    shopper_locale: Mapped[str | None] = mapped_column(String(8))

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", passive_deletes=True,
        order_by="OrderItem.position",
    )
    tracking: Mapped[list[Tracking]] = relationship(
        back_populates="order", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Tracking.position",
    )
    history: Mapped[list[StatusChange]] = relationship(
        back_populates="order", cascade="all, delete-orphan", passive_deletes=True,
        order_by="StatusChange.id",
    )

    @classmethod
    def of_store(cls, store_id: int) -> ColumnElement[bool]:
        """All of a store's orders, in the terms that let the store's index find them.

        ``updated_at`` is never NULL: the condition names the index's predicate, without
        which a read of the store's orders would scan the table.
        """
        return and_(cls.store_id == store_id, cls.updated_at.is_not(None))


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    line_id: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    qty_ordered: Mapped[int] = mapped_column(Integer, default=0)
    qty_shipped: Mapped[int] = mapped_column(Integer, default=0)
    qty_needed: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str | None] = mapped_column(String(64))
    expected_ship_date: Mapped[date | None] = mapped_column(Date)
    actual_ship_date: Mapped[date | None] = mapped_column(Date)

    order: Mapped[Order] = relationship(back_populates="items")


class Tracking(Base):
    __tablename__ = "tracking_numbers"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(64))
    carrier: Mapped[str | None] = mapped_column(String(64))
    shipped_on: Mapped[date | None] = mapped_column(Date)

    order: Mapped[Order] = relationship(back_populates="tracking")


class StatusChange(Base):
    """One label change: of the order (``line_id`` empty) or of one line item."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[str | None] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(64))
    to_status: Mapped[str] = mapped_column(String(64))
    event: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="history")
