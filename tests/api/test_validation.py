"""Every field's validation, forbidden data and the card-number scan."""
import copy

import pytest
from sqlalchemy import func, select

from oss_server.models import Activity, Order
from oss_server.schemas.screening import CARD_IN_TEXT, NEVER_ACCEPTED

from ..conftest import make_update

VISA_TEST = "4111 1111 1111 1111"


def _set(update, path, value):
    node = update
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last = parts[-1]
    if value is _DELETE:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return update


_DELETE = object()

INVALID = [
    ("update_id", "", "update_id"),
    ("update_id", "has space", "update_id"),
    ("update_id", "x" * 65, "update_id"),
    ("update_id", "abc\n", "update_id"),
    ("update_id", _DELETE, "update_id"),
    ("sequence", -1, "sequence"),
    ("sequence", "7", "sequence"),
    ("sequence", 1.5, "sequence"),
    ("sequence", True, "sequence"),
    ("occurred_at", "2026-11-20T10:00:00", "occurred_at"),  # no offset
    ("occurred_at", "yesterday", "occurred_at"),
    ("event", "E" * 65, "event"),
    ("notify_customer", "maybe", "notify_customer"),
    ("order", _DELETE, "order"),
    ("order.order_number", "", "order.order_number"),
    ("order.order_number", "   ", "order.order_number"),
    ("order.order_number", "9" * 65, "order.order_number"),
    ("order.cart_order_number", "C" * 65, "order.cart_order_number"),
    ("order.order_number", "ß" * 64, "order.order_number"),  # 128 once case-folded
    ("order.cart_order_number", "ß" * 40, "order.cart_order_number"),
    ("order.status", "", "order.status"),
    ("order.status", "S" * 65, "order.status"),
    ("order.status", 5, "order.status"),
    ("order.bill_to", _DELETE, "order.bill_to"),
    ("order.bill_to", {"name": "No Factors"}, "order.bill_to._schema"),
    ("order.bill_to.zip", "1" * 21, "order.bill_to.zip"),
    ("order.ship_to", {"name": "N" * 201}, "order.ship_to.name"),
    ("order.expected_ship_date", "20/11/2026", "order.expected_ship_date"),
    ("order.actual_ship_date", "2026-13-01", "order.actual_ship_date"),
    ("order.items", [{}], "order.items.0.line_id"),
    ("order.items.0.qty_ordered", 1_000_001, "order.items.0.qty_ordered"),
    ("order.items.0.qty_shipped", -1, "order.items.0.qty_shipped"),
    ("order.items.0.qty_needed", "3", "order.items.0.qty_needed"),
    ("order.items.0.status", "L" * 65, "order.items.0.status"),
    ("order.items.1.line_id", "1", "order.items.1.line_id"),  # duplicate line id
    ("order.items.0.name", "Mug\x00", "order.items.0.name"),
    ("order.items.0.expected_ship_date", "soon", "order.items.0.expected_ship_date"),
    ("order.tracking", [{"carrier": "UPS"}], "order.tracking.0.number"),
    ("order.tracking", [{"number": "1Z", "shipped_on": "monday"}], "order.tracking.0.shipped_on"),
]


@pytest.mark.parametrize("path,value,error_path", INVALID)
def test_invalid_field_is_rejected_with_its_path(api, path, value, error_path, session):
    update = _set(make_update(), path, value)
    result = api.post(update).get_json()["results"][0]
    assert result["result"] == "rejected"
    assert error_path in result["errors"], result["errors"]
    assert session.scalar(select(func.count(Order.id))) == 0


def test_too_many_lines_rejected(api):
    update = make_update()
    update["order"]["items"] = [{"line_id": str(i)} for i in range(1001)]
    result = api.post(update).get_json()["results"][0]
    assert result["result"] == "rejected" and "order.items" in result["errors"]


@pytest.mark.parametrize("path", ["mystery", "order.colour", "order.items.0.weight",
                                  "order.bill_to.country", "order.tracking.0.url"])
def test_unknown_fields_are_rejected(api, path):
    update = make_update(tracking=[{"number": "1Z999AA10123456784"}])
    _set(update, path, "x")
    result = api.post(update).get_json()["results"][0]
    assert result["result"] == "rejected"
    assert result["errors"][path] == "Unknown field."


@pytest.mark.parametrize("path", [
    "card_number", "order.cvv", "order.bill_to.address1", "order.bill_to.street",
    "order.ship_to.address_line_1", "order.payment_card", "order.items.0.exp_month",
    "order.bank_account", "order.bill_to.iban", "order.ship_to.line1",
])
def test_payment_and_address_fields_never_accepted(api, path):
    update = _set(make_update(), path, "12 Main St")
    result = api.post(update).get_json()["results"][0]
    assert result["result"] == "rejected"
    assert result["errors"][path] == NEVER_ACCEPTED


@pytest.mark.parametrize("path", ["order.items.0.name", "order.bill_to.name", "order.status",
                                  "event", "order.ship_to.name"])
def test_card_number_in_text_is_rejected_and_not_echoed(api, path, session, caplog):
    update = _set(make_update(), path, f"Gift {VISA_TEST}")
    response = api.post(update)
    result = response.get_json()["results"][0]
    assert result["result"] == "rejected"
    assert result["errors"][path] == CARD_IN_TEXT
    body = response.get_data(as_text=True)
    assert "4111" not in body
    assert "4111" not in caplog.text
    stored = session.execute(select(Activity.errors, Activity.event, Activity.update_id,
                                    Activity.order_number)).all()
    assert stored and "4111" not in str(stored)


def test_non_luhn_digits_and_identifiers_are_fine(api):
    update = make_update(order_number="4111111111111111")  # identifiers are not scanned
    update["order"]["items"][0]["name"] = "Part 1234 5678 9012 3456"  # fails Luhn
    update["order"]["items"][0]["sku"] = "4006381334013"  # a barcode: passes Luhn, not a card
    assert api.results(update) == ["applied"]


def test_defaults_for_optional_fields(api):
    update = make_update()
    update["order"].pop("items")
    update["order"].pop("tracking")
    update["order"].pop("cart_order_number")
    update["order"].pop("ship_to")
    update.pop("event")
    assert api.results(update) == ["applied"]
    body = api.order("1001").get_json()
    assert body["items"] == [] and body["tracking"] == []


def test_non_object_update_is_rejected(api):
    response = api.post("not an object", make_update())
    results = response.get_json()["results"]
    assert [r["result"] for r in results] == ["rejected", "applied"]
    assert results[0]["update_id"] is None


def test_one_factor_is_enough(api):
    for index, factor in enumerate(["zip", "email", "phone"]):
        update = make_update(f"u-{factor}", order_number=f"N{index}")
        update["order"]["bill_to"] = {"name": "A", factor: copy.deepcopy(
            make_update()["order"]["bill_to"][factor])}
        assert api.results(update) == ["applied"]
