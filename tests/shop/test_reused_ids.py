"""A status link never outlives its order: a later order never takes a deleted one's id."""
from __future__ import annotations

from sqlalchemy import select

from oss_server.models import Order
from oss_server.services.orders import delete_order


def test_deleted_orders_link_never_opens_the_next_order(shopper, store, add_order, session):
    add_order(store, order_number="A-700", bill_to={"name": "Pat Old", "zip": "10001"},
              items=[{"line_id": "1", "name": "Blue teapot"}])
    found = shopper.lookup("acme", "A-700", "10001")
    assert found.status_code == 303
    link = found.headers["Location"]
    assert "Blue teapot" in shopper.client.get(link).get_data(as_text=True)
    old_id = session.scalar(select(Order.id).where(Order.order_number == "A-700"))

    delete_order(session, store, "A-700")  # the newest order: SQLite used to hand its id out
    session.commit()
    add_order(store, order_number="A-701", bill_to={"name": "Quinn New", "zip": "20002"},
              items=[{"line_id": "1", "name": "Red kettle"}])
    assert session.scalar(select(Order.id).where(Order.order_number == "A-701")) > old_id

    response = shopper.client.get(link)
    assert response.status_code == 303 and response.headers["Location"].endswith("/s/acme/")
    html = shopper.client.get("/s/acme/").get_data(as_text=True)
    assert "This order status link is not valid" in html
    assert "Quinn" not in html and "Red kettle" not in html


def test_ids_keep_climbing_after_several_deletions(store, add_order, session):
    ids = []
    for n in range(3):
        add_order(store, order_number=f"B-{n}")
        ids.append(session.scalar(select(Order.id).where(Order.order_number == f"B-{n}")))
        delete_order(session, store, f"B-{n}")
        session.commit()
    assert ids == sorted(set(ids))
