"""Limits on the API and races between workers writing the same order."""
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from oss_server.extensions import db
from oss_server.models import Order, Store, UpdateReceipt
from oss_server.services.updates import apply_updates

from ..conftest import make_update


class TestRateLimit:
    @pytest.fixture
    def app_config(self):
        return {"OSS_API_RATE_LIMIT": "2 per minute"}

    def test_third_batch_in_a_minute_is_429_with_retry_after(self, api):
        assert api.post(make_update("a")).status_code == 200
        assert api.post(make_update("b")).status_code == 200
        response = api.post(make_update("c"))
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0
        assert response.get_json()["error"]["code"] == "rate_limited"


def test_concurrent_batches_for_the_same_new_orders_do_not_fail(app, api_key, session):
    """Two workers inserting the same new orders at once: one wins, the other retries."""
    errors, results = [], []

    def send(prefix):
        client = app.test_client()
        updates = [make_update(f"{prefix}-{i}", 1 if prefix == "a" else 2,
                               order_number=f"R-{i}") for i in range(50)]
        response = client.post("/api/v1/updates", json={"updates": updates},
                               headers={"Authorization": f"Bearer {api_key}"})
        if response.status_code != 200:
            errors.append(response.get_data(as_text=True))
        else:
            results.extend(r["result"] for r in response.get_json()["results"])

    for _round in range(3):
        threads = [threading.Thread(target=send, args=(p,)) for p in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert errors == []
    assert set(results) <= {"applied", "duplicate", "stale"}
    assert session.scalar(select(func.count(Order.id))) == 50
    assert session.scalar(select(func.count()).select_from(UpdateReceipt)) == 100


def test_an_older_snapshot_never_overwrites_a_newer_one_committed_meanwhile(app, make_store):
    """Two batches change one order at once; the newer snapshot is what stays stored."""
    store_id = make_store().id
    factor_key = app.config["OSS_FACTOR_KEY"]

    def apply(session, update):
        store = session.get(Store, store_id)
        return apply_updates(session, store, [update], factor_key=factor_key).results[0]

    with Session(db.engine) as setup:
        assert apply(setup, make_update("first", 1, order_number="RACE-1"))["result"] == "applied"
        setup.commit()
    newer, older = Session(db.engine), Session(db.engine)
    outcome = {}

    def send_older():
        try:
            outcome["older"] = apply(older, make_update("older", 2, order_number="RACE-1",
                                                        status="Packed"))["result"]
            older.commit()
        except OperationalError:  # SQLite: its snapshot went stale; the client retries
            older.rollback()
            outcome["older"] = "retry"

    try:
        # The newer one has changed the order but not committed when the older one comes.
        assert apply(newer, make_update("newer", 3, order_number="RACE-1",
                                        status="Shipped"))["result"] == "applied"
        thread = threading.Thread(target=send_older)
        thread.start()
        thread.join(0.5)
        newer.commit()
        thread.join(30)
    finally:
        newer.close()
        older.close()
    assert outcome["older"] in ("stale", "retry")
    with Session(db.engine) as check:
        stored = check.scalars(select(Order).where(Order.order_key == "race-1")).one()
        assert (stored.sequence, stored.status) == (3, "Shipped")
