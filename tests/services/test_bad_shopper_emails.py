"""One bad shopper email never turns a batch into a 500: that update alone is refused."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from oss_server.models import Order
from oss_server.models.outbox import OutboxEmail
from oss_server.schemas.fields import EMAIL_ERROR
from oss_server.services import email_outbox as outbox

from ..conftest import Api, make_update

BAD = ["nope", "a@b.test, victim@evil.test", "a@b.test\r\nBcc: x@evil.test", "a@b",
       "<a@b.test>", "a b@c.test", "a@b.test\n", '"Pat" <a@b.test>']


@pytest.fixture
def app_config():
    return {"OSS_BASE_URL": "https://status.example.test"}


@pytest.fixture
def shop_api(client, make_store, make_api_key):
    store = make_store(slug="mugs", name="Mugs & Co", shopper_emails=True)
    return Api(client, make_api_key(store))


def _update(update_id, number, email, status="Shipped"):
    update = make_update(update_id, 1, order_number=number, status=status)
    update["order"]["bill_to"]["email"] = email
    update["notify_customer"] = True
    return update


@pytest.mark.parametrize("bad", BAD)
def test_bad_email_is_rejected_alone(shop_api, session, bad, caplog):
    caplog.set_level(logging.INFO)
    response = shop_api.post(_update("g-1", "1001", "one@shopper.example"),
                             _update("b-1", "1002", bad),
                             _update("g-2", "1003", " Two@Shopper.Example "))
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["result"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["errors"] == {"order.bill_to.email": EMAIL_ERROR}
    assert "evil" not in response.get_data(as_text=True)
    stored = set(session.scalars(select(Order.order_number)))
    assert stored == {"1001", "1003"}
    recipients = sorted(r.lower() for r in session.scalars(select(OutboxEmail.recipient)))
    assert recipients == ["one@shopper.example", "two@shopper.example"]
    assert "evil" not in caplog.text


@pytest.mark.parametrize("fine", ["", "   ", None, "o'brien@x.example", "kim@bücher.example"])
def test_blank_or_plain_addresses_still_pass(shop_api, fine):
    update = _update("f-1", "1001", fine)
    assert shop_api.results(update) == ["applied"]


def test_an_email_that_cannot_be_queued_leaves_the_batch_standing(shop_api, session,
                                                                  monkeypatch, caplog):
    real = outbox.compose_status_email

    def failing(store, order, update, **kwargs):
        if order.order_number == "1002":
            raise RuntimeError("template broke")
        return real(store, order, update, **kwargs)

    monkeypatch.setattr(outbox, "compose_status_email", failing)
    response = shop_api.post(_update("g-1", "1001", "one@shopper.example"),
                             _update("g-2", "1002", "two@shopper.example"),
                             _update("g-3", "1003", "three@shopper.example"))
    assert response.status_code == 200
    assert [r["result"] for r in response.get_json()["results"]] == ["applied"] * 3
    assert session.scalar(select(func.count(Order.id))) == 3
    assert sorted(session.scalars(select(OutboxEmail.recipient))) == [
        "one@shopper.example", "three@shopper.example"]
    assert "not queued" in caplog.text
