"""Limits on the API and races between workers writing the same order."""
import threading

import pytest
from sqlalchemy import func, select

from oss_server.models import Order, UpdateReceipt

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
