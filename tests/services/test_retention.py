"""Retention: orders past the store's window, receipts past 7 days."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from oss_server.models import Order, UpdateReceipt
from oss_server.services.retention import purge
from oss_server.services.updates import apply_updates

from ..conftest import TEST_FACTOR_KEY, make_update


def test_purge_respects_retention_and_receipt_horizon(session, make_store):
    store = make_store(retention_days=30)
    now = datetime.now(timezone.utc)
    apply_updates(session, store, [make_update("old", order_number="A")],
                  factor_key=TEST_FACTOR_KEY, now=now - timedelta(days=31))
    apply_updates(session, store, [make_update("new", order_number="B")],
                  factor_key=TEST_FACTOR_KEY, now=now - timedelta(days=6))
    session.commit()
    counts = purge(session, now)
    session.commit()
    assert counts["orders"] == 1
    assert set(session.scalars(select(Order.order_number))) == {"B"}
    # The 31-day-old receipt goes, the 6-day-old one stays (≥ 7 days kept).
    assert set(session.scalars(select(UpdateReceipt.update_id))) == {"new"}
    assert session.scalar(select(func.count()).select_from(UpdateReceipt)) == 1
