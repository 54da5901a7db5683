"""Retention: forget orders past each store's window and old update receipts."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from ..models import Activity, Order, Store, UpdateReceipt
from ..models.base import rows_changed
from ..storage import DbSession
from .orders import delete_orders_where

# Receipts must outlive the client's retry horizon, or a late retry would apply twice.
MIN_RECEIPT_DAYS = 7


def purge(session: DbSession, now: datetime, receipt_days: int = MIN_RECEIPT_DAYS) -> dict:
    """Delete expired orders, receipts and activity; return counts by kind."""
    receipt_days = max(receipt_days, MIN_RECEIPT_DAYS)
    orders = 0
    for store in session.scalars(select(Store)):
        cutoff = now - timedelta(days=store.retention_days)
        orders += delete_orders_where(session, Order.store_id == store.id,
                                      Order.updated_at < cutoff)
    receipts = rows_changed(session.execute(
        delete(UpdateReceipt).where(UpdateReceipt.received_at < now - timedelta(days=receipt_days))
    ))
    activity = rows_changed(session.execute(
        delete(Activity).where(Activity.received_at < now - timedelta(days=max(receipt_days, 30)))
    ))
    session.flush()
    return {"orders": orders, "receipts": receipts, "activity": activity}
