"""The merchant sees shopper emails the mail server refused, and can queue them again."""
from sqlalchemy import select

from oss_server.models import Order
from oss_server.models.outbox import FAILED, PENDING, SHOPPER_STATUS, OutboxEmail
from tests.conftest import make_update


def test_failed_email_is_listed_without_the_address_and_can_be_resent(
        make_merchant, make_store, make_api_key, client, session, signed_in):
    merchant = make_merchant()
    store = make_store(merchant=merchant, slug="mail-shop")
    key = make_api_key(store=store)
    client.post("/api/v1/updates", json={"updates": [make_update()]},
                headers={"Authorization": f"Bearer {key}"})
    order = session.scalar(select(Order))
    email = OutboxEmail(kind=SHOPPER_STATUS, recipient="pat@example.com",
                        subject="Order 1001: Approved", text="t", store_id=store.id,
                        order_id=order.id, state=FAILED, attempts=3,
                        last_error="550 mailbox unavailable")
    session.add(email)
    session.commit()
    browser = signed_in(merchant)
    page = browser.get("/account/stores/mail-shop/activity").get_data(as_text=True)
    assert "could not be delivered" in page and "550 mailbox unavailable" in page
    assert "pat@example.com" not in page
    response = browser.post(f"/account/stores/mail-shop/emails/{email.id}/retry", {})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(OutboxEmail, email.id).state == PENDING
    page = browser.get("/account/stores/mail-shop/activity").get_data(as_text=True)
    assert "could not be delivered" not in page
