"""The status page: what it shows, what it never shows, and its link's lifetime."""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from oss_server.services.labels import set_label_wording
from oss_server.services.tokens import make_status_token

FACTORS = ["10001", "100011234", "pat@example.com", "Pat@Example.com", "2125550199", "555-0199",
           "555 0199", "(212)"]


@pytest.fixture
def shipped(store, add_order):
    add_order(store, status="Approved")
    return add_order(
        store, status="Shipped", actual_ship_date="2026-11-21", expected_ship_date="2026-11-21",
        items=[{"line_id": "1", "sku": "MUG", "name": "Stoneware mug", "qty_ordered": 2,
                "qty_shipped": 1, "qty_needed": 1, "status": "Item Backordered",
                "expected_ship_date": "2026-12-02"},
               {"line_id": "2", "sku": "CAP", "name": "Cap", "qty_ordered": 1, "qty_shipped": 1,
                "qty_needed": 0, "status": "Item Shipped", "actual_ship_date": "2026-11-21"}],
        tracking=[{"number": "1Z5R89390357567127"},
                  {"number": "986578788855", "carrier": "UPS"},
                  {"number": "OT778899", "carrier": "OnTrac"},
                  {"number": "ZZ-NOT-A-NUMBER"}])


def open_status(shopper, number="1001", verifier="10001", slug="acme"):
    found = shopper.lookup(slug, number, verifier)
    assert found.status_code == 303
    return shopper.client.get(found.headers["Location"])


def test_status_page_shows_the_order(shopper, shipped):
    response = open_status(shopper)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for text in ("Order 1001", "W-1001", "Shipped", "Stoneware mug", "MUG", "Item Backordered",
                 "November 21, 2026", "Last updated", "Acme Outfitters", "help@acme.example",
                 "<table", '<th scope="col">', "Still needed", "History", "Approved"):
        assert text in html, text
    # Detected from the number (with its check digit), named by the update, unknown, none.
    assert 'href="https://www.ups.com/track?loc=en_US&amp;tracknum=1Z5R89390357567127"' in html
    assert 'href="https://www.ups.com/track?loc=en_US&amp;tracknum=986578788855"' in html
    assert "OnTrac" in html and "OT778899<" in html and "tracknum=OT778899" not in html
    assert "ZZ-NOT-A-NUMBER" in html


def test_status_page_is_private_and_unindexed(shopper, shipped):
    response = open_status(shopper)
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert '<meta name="robots" content="noindex, nofollow">' in response.get_data(as_text=True)


@pytest.mark.parametrize("verifier", ["10001-1234", "pat@example.com", "+1 (212) 555-0199"])
def test_status_page_contains_none_of_the_factors(shopper, shipped, verifier):
    response = open_status(shopper, verifier=verifier)
    html = response.get_data(as_text=True)
    for factor in FACTORS:
        assert factor not in html, factor
    assert "10001" not in response.request.url
    for cookie in shopper.client._cookies.values():
        assert "10001" not in cookie.value and "example.com" not in cookie.value.lower()


def test_status_page_in_spanish_with_local_dates(shopper, shipped):
    found = shopper.lookup("acme", "1001", "10001")
    html = shopper.client.get(found.headers["Location"] + "?lang=es").get_data(as_text=True)
    assert '<html lang="es">' in html
    assert "Pedido 1001" in html and "21 de noviembre de 2026" in html


def test_expired_link_goes_back_to_the_form_with_a_message(app, shopper, shipped, store,
                                                           session, monkeypatch):
    from oss_server.models import Order

    order_id = session.scalar(select(Order.id))
    days = app.config["OSS_STATUS_TOKEN_DAYS"]
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - days * 86400 - 60)
    token = make_status_token(app.secret_key, store.id, order_id)
    monkeypatch.setattr(time, "time", real)
    response = shopper.client.get(f"/s/acme/o/{token}")
    assert response.status_code == 303 and response.headers["Location"].endswith("/s/acme/")
    html = shopper.client.get("/s/acme/").get_data(as_text=True)
    assert "This order status link has expired" in html


def test_forged_or_foreign_token_is_refused(app, shopper, shipped, store, make_store):
    assert shopper.client.get("/s/acme/o/not-a-token").status_code == 303
    other = make_store(slug="other")
    token = make_status_token(app.secret_key, other.id, 1)
    assert shopper.client.get(f"/s/acme/o/{token}").status_code == 303


def test_deleted_order_link_goes_back_to_the_form(shopper, shipped, session, store):
    from oss_server.services.orders import delete_order

    found = shopper.lookup("acme", "1001", "10001")
    delete_order(session, store, "1001")
    session.commit()
    assert shopper.client.get(found.headers["Location"]).status_code == 303


def test_label_map_rewords_labels_and_hides_internal_ones(shopper, session, store, add_order):
    add_order(store, status="Approved")
    add_order(store, status="Fraud Review", items=[
        {"line_id": "1", "sku": "MUG", "name": "Mug", "qty_ordered": 1, "qty_shipped": 0,
         "qty_needed": 1, "status": "Warehouse Hold"}])
    set_label_wording(session, store, "approved", text="Confirmed")
    set_label_wording(session, store, "Fraud Review", hidden=True)
    set_label_wording(session, store, "Warehouse Hold", hidden=True)
    session.commit()
    html = open_status(shopper).get_data(as_text=True)
    assert "Fraud Review" not in html and "Warehouse Hold" not in html
    assert re.search(r'class="status-badge">Confirmed<', html)  # latest visible status


def test_all_hidden_reads_as_processing(shopper, session, store, add_order):
    add_order(store, status="Fraud Review")
    set_label_wording(session, store, "Fraud Review", hidden=True)
    session.commit()
    html = open_status(shopper).get_data(as_text=True)
    assert "Fraud Review" not in html and "Processing" in html
