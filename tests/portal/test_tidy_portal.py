"""The portal's pages read plainly: errors in words, linked orders and tracking, every label."""
from __future__ import annotations

import re

import pytest

from oss_server.portal.error_words import _NAMES, plain_field
from oss_server.services import keys
from tests.api.test_order_fields import every_contract_path
from tests.conftest import Api, make_update


@pytest.fixture
def shop(client, session, make_merchant, make_store, signed_in):
    merchant = make_merchant()
    store = make_store(merchant, slug="acme", name="Acme")
    _key, full = keys.create_api_key(session, store)
    session.commit()
    return Api(client, full), signed_in(merchant)


@pytest.mark.parametrize("path, words", [
    ("order.bill_to._schema", "Billing details"),
    ("order.items.0.qty_ordered", "Item 1, quantity ordered"),
    ("order.tracking.1.number", "Tracking 2, number"),
    ("order.status", "Status"),
    ("update_id", "Update id"),
    ("invalid_signature", "Signature"),
    ("order.some_new_field", "Some new field"),
])
def test_field_paths_in_plain_words(path, words):
    assert plain_field(path) == words


def test_every_field_of_the_contract_has_its_words():
    # Unknown names still read as words ("some new field"); the contract's own are chosen.
    names = {path.rpartition(".")[2] for path in every_contract_path()}
    assert sorted(names - set(_NAMES)) == [], "word these in portal/error_words.py"


def test_activity_says_errors_in_words_and_links_stored_orders(shop):
    api, browser = shop
    bad = make_update("u-2", order_number="2002")
    bad["order"]["bill_to"] = {"name": "Pat"}  # no verification factor at all
    bad["order"]["items"][0]["qty_ordered"] = -1
    assert api.results(make_update("u-1"), bad) == ["applied", "rejected"]
    page = browser.get("/account/stores/acme/activity").get_data(as_text=True)
    assert "_schema" not in page and "order.items.0" not in page
    assert "<strong>Billing details</strong>: Give at least one of zip, email or phone." in page
    assert "<strong>Item 1, quantity ordered</strong>" in page
    # The stored order is a link to its page; the rejected one was never stored.
    link = re.search(r'<a href="(/account/stores/acme/orders/\d+)">1001</a>', page)
    assert link and browser.get(link.group(1)).status_code == 200
    assert 'data-label="Order">2002</td>' in page


def test_the_order_view_links_tracking_numbers_to_the_carrier(shop):
    api, browser = shop
    update = make_update(tracking=[{"number": "1Z999AA10123456784", "carrier": "UPS"},
                                   {"number": "ZZ-LOCAL-1", "carrier": "Joe's Courier"}])
    assert api.results(update) == ["applied"]
    page = browser.get("/account/stores/acme/orders/1").get_data(as_text=True)
    assert re.search(r'<a href="https://www\.ups\.com/[^"]*1Z999AA10123456784[^"]*"[^>]*>'
                     r'<code>1Z999AA10123456784</code></a> \(UPS\)', page)
    assert "<code>ZZ-LOCAL-1</code> (Joe&#39;s Courier)" in page
    assert "no tracking page known for this number" in page


def test_labels_page_lists_standard_labels_and_counts_item_labels(shop):
    api, browser = shop
    assert api.results(make_update("u-1"), make_update("u-2", order_number="1002")) == [
        "applied", "applied"]
    page = re.sub(r"\s+", " ", browser.get("/account/stores/acme/labels").get_data(as_text=True))

    def row(label):
        found = re.search(rf'<th scope="row" data-label="Label">{re.escape(label)}(.*?)</tr>', page)
        assert found, label
        return found.group(1)

    # "Fraud Review" can be hidden before the first order that carries it.
    assert "Standard, not received yet" in row("Fraud Review")
    assert 'name="label" value="Fraud Review"' in page
    # Both orders are Approved with items "Item Pending": item labels count their orders.
    assert 'data-label="Orders now">2</td>' in row("Approved")
    assert '2 <span class="hint">(2 on items)</span>' in row("Item Pending")
    assert "not received yet" not in row("Item Pending")
    assert page.count('data-label="Label">Item Pending') == 1
