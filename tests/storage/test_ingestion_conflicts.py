"""Ingestion's concurrency holds for every caller of apply_updates, not only the API."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oss_server.extensions import db
from oss_server.models import Order, Store, UpdateReceipt
from oss_server.services import updates
from oss_server.services.updates import apply_updates

from ..conftest import make_update


def test_a_batch_that_loses_an_insert_race_is_redone_without_the_api(app, make_store,
                                                                     monkeypatch):
    """Another worker stores the same new order between this batch's read and its write."""
    # On SQLite the batch's reads wait for the write lock and see the other's order; on
    # PostgreSQL they ran before it was stored, and the batch's insert loses the race.
    store_id = make_store().id
    factor_key = app.config["OSS_FACTOR_KEY"]
    lock_for_batch, raced = updates.lock_for_batch, []

    def lock_then_race(session):
        # The batch has read its orders and not found RACE-2; another worker commits it.
        if not raced:
            raced.append(True)
            with Session(db.engine) as other:
                other_store = other.get(Store, store_id)
                apply_updates(other, other_store,
                              [make_update("theirs", 1, order_number="RACE-2")],
                              factor_key=factor_key)
                other.commit()
        lock_for_batch(session)

    monkeypatch.setattr(updates, "lock_for_batch", lock_then_race)
    with Session(db.engine) as session:
        store = session.get(Store, store_id)
        batch = apply_updates(session, store, [make_update("ours", 2, order_number="RACE-2")],
                              factor_key=factor_key)
        session.commit()
    assert raced and [r["result"] for r in batch.results] == ["applied"]
    with Session(db.engine) as check:
        assert check.scalar(select(func.count(Order.id))
                            .where(Order.store_id == store_id)) == 1
        assert check.scalar(select(func.count()).select_from(UpdateReceipt)
                            .where(UpdateReceipt.store_id == store_id)) == 2
