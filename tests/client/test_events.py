"""Labels and the event table: every standard event's effect, change detection, the lint."""

import copy

import pytest

from seom_client import STANDARD_EVENTS, EventError, EventRule, check_table
from seom_client.events import (
    CHANGE_STATUS_EVENTS,
    adopt_labels,
    apply_event,
    load_defaults,
)

from .conftest import make_order

# The shipped default table: event -> (order label, item label, notify).
DEFAULTS = {
    "Drop Ship Canceled": ("", "Supplier Order Canceled", True),
    "Drop Ship Ordered": ("", "Ordered From Supplier", True),
    "Item Add": ("", "Item Added", False),
    "Item Cancel": ("", "Item Canceled", True),
    "Item Change Status": ("", "", True),
    "Item Exchange": ("", "Item Exchanged", True),
    "Item Fill Backorder": ("", "Item Backorder Filled", True),
    "Item Force Backorder": ("Some Items Backordered", "Item Backordered", True),
    "Item Return": ("", "Item Returned", True),
    "Item Revise": ("", "Item Revised", False),
    "Item Set Expected Ship Date": ("", "Item Scheduled", True),
    "Item Set Actual Ship Date": ("", "Item Dispatched", True),
    "Item Unreturn": ("", "Item Return Reversed", True),
    "Order Add Tracking Number": ("Shipped", "Item Shipped", True),
    "Order Approve": ("Approved", "", True),
    "Order Cancel": ("Canceled", "", True),
    "Order Cancel Back Order": ("Backorder Canceled", "", True),
    "Order Change Status": ("", "", True),
    "Order Credit Issued": ("Credit Issued", "", True),
    "Order Edit Tracking Number": ("Tracking Updated", "", True),
    "Order Force Backorder": ("Backordered", "", True),
    "Order Fill Backorder": ("Backorder Filled", "", True),
    "Order Import": ("Received", "", True),
    "Order Pack": ("Packed", "Item Packed", True),
    "Order Payment Edit": ("Payment Updated", "", False),
    "Order Payment Received": ("Payment Received", "", True),
    "Order Payment Void": ("Payment Voided", "", True),
    "Order Set Actual Ship Date": ("Dispatched", "", True),
    "Order Unapprove": ("On Hold", "", True),
    "Order Uncancel": ("Reinstated", "", True),
}
TABLE_EVENTS = [e for e in STANDARD_EVENTS if "Change Status" not in e]


def test_defaults_cover_all_30_standard_events():
    labels, events = load_defaults()
    assert len(STANDARD_EVENTS) == 30 and set(events) == set(STANDARD_EVENTS)
    assert {n: (r.order_status, r.item_status, r.notify) for n, r in events.items()} == DEFAULTS
    for rule in events.values():
        for label in (rule.order_status, rule.item_status):
            assert not label or label in labels


def test_default_table_passes_its_own_check():
    assert check_table(*load_defaults()) == []


@pytest.mark.parametrize("event", TABLE_EVENTS)
def test_each_standard_event_sets_its_labels(make_client, event):
    client = make_client()
    order = make_order(status="Start", lines=3)
    for line in order["items"]:
        line["status"] = "Item Start"
    result = client.fire(event, order, items=["2"])
    order_label, item_label, notify = DEFAULTS[event]
    assert result.order["status"] == (order_label or "Start")
    if event.startswith("Order"):
        changed_lines = {"1", "2", "3"} if item_label else set()
    else:
        changed_lines = {"2"} if item_label else set()
    for line in result.order["items"]:
        expected = item_label if line["line_id"] in changed_lines else "Item Start"
        assert line["status"] == expected
    assert set(result.items) == changed_lines
    assert result.order_status == (("Start", order_label) if order_label else None)
    assert result.queued is notify
    assert order["status"] == "Start"  # the caller's snapshot is left alone
    if notify:
        assert result.update["event"] == event
        assert result.update["order"] == result.order
        assert client.queue.counts()["pending"] == 1


def test_issue_examples(make_client):
    client = make_client()
    r = client.fire("Order Add Tracking Number", make_order())
    assert r.order["status"] == "Shipped"
    assert [i["status"] for i in r.order["items"]] == ["Item Shipped", "Item Shipped"]
    r = client.fire("Item Force Backorder", make_order("1002"), items=["1"])
    assert r.order["status"] == "Some Items Backordered"
    assert [i["status"] for i in r.order["items"]] == ["Item Backordered", "Item Added"]


def test_same_label_again_queues_nothing(make_client):
    client = make_client()
    first = client.fire("Order Approve", make_order())
    again = client.fire("Order Approve", first.order)
    assert first.queued and not again.queued and not again.changed
    assert again.reason == "no label changed"
    assert client.queue.counts()["pending"] == 1


def test_item_label_change_alone_is_due(make_client):
    client = make_client()
    order = make_order(status="Some Items Backordered")
    order["items"][0]["status"] = "Item Backordered"
    r = client.fire("Item Force Backorder", order, items=["2"])
    assert r.order_status is None and r.items == {"2": ("Item Added", "Item Backordered")}
    assert r.queued


def test_notify_off_changes_labels_but_queues_nothing(make_client):
    client = make_client()
    r = client.fire("Item Revise", make_order(), items=["1"])
    assert r.changed and not r.queued and "notify" in r.reason
    assert client.queue.counts()["pending"] == 0


def test_master_switch_off_changes_nothing(make_client):
    client = make_client(use_status_updates=False)
    order = make_order()
    r = client.fire("Order Approve", order)
    assert not r.changed and not r.queued and r.order == order
    assert client.queue.counts()["pending"] == 0


def test_item_events_without_items_act_on_every_line(make_client):
    r = make_client().fire("Item Cancel", make_order(lines=3))
    assert set(r.items) == {"1", "2", "3"}


def test_unknown_line_or_event_is_an_error(make_client):
    client = make_client()
    with pytest.raises(EventError, match="no line"):
        client.fire("Item Cancel", make_order(), items=["9"])
    with pytest.raises(EventError, match="unknown event"):
        client.fire("Order Teleport", make_order())


def test_order_change_status_takes_the_label_the_user_set(make_client):
    client = make_client()
    r = client.fire("Order Change Status", make_order(), label="Fraud Review")
    assert r.order_status == ("Received", "Fraud Review") and r.queued
    again = client.fire("Order Change Status", r.order, label="Fraud Review")
    assert not again.queued


def test_item_change_status_takes_the_label_the_user_set(make_client):
    client = make_client()
    r = client.fire("Item Change Status", make_order(), items=["2"], label="Item Packed")
    assert r.items == {"2": ("Item Added", "Item Packed")} and r.order_status is None
    assert r.queued


def test_change_status_without_label_compares_with_the_last_labels_seen(make_client):
    client = make_client()
    approved = client.fire("Order Approve", make_order()).order
    unchanged = client.fire("Order Change Status", approved)
    assert not unchanged.queued
    edited = dict(approved, status="Fraud Review")  # the user set it in the order manager
    r = client.fire("Order Change Status", edited)
    assert r.order_status == ("Approved", "Fraud Review") and r.queued


def test_expected_ship_date_without_label_carries_no_date(make_client):
    client = make_client()
    client.config.events["Item Set Expected Ship Date"] = EventRule("", "", True)
    order = make_order(expected_ship_date="2026-12-01")
    order["items"][0]["expected_ship_date"] = "2026-12-01"
    r = client.fire("Item Set Expected Ship Date", order, items=["1"])
    assert not r.queued
    assert "expected_ship_date" not in r.order and "expected_ship_date" not in r.order["items"][0]


def test_expected_ship_date_with_label_carries_the_date(make_client):
    client = make_client()
    order = make_order()
    order["items"][0]["expected_ship_date"] = "2026-12-01"
    r = client.fire("Item Set Expected Ship Date", order, items=["1"])
    assert r.queued and r.update["order"]["items"][0]["expected_ship_date"] == "2026-12-01"


def deep_order():
    """Return a three-line order with values at every depth and dates an event may drop."""
    order = make_order(status="Start", lines=3, expected_ship_date="2026-12-01",
                       tracking=[{"number": "1Z999AA10123456784", "carrier": "UPS"}])
    for line in order["items"]:
        line.update(status="Item Start", expected_ship_date="2026-12-01")
    return order


# Every event, and the Change Status events both with the label given and taken from the file.
FIRES = [(event, None) for event in STANDARD_EVENTS] + [
    ("Order Change Status", "Approved"), ("Item Change Status", "Item Packed")]


@pytest.mark.parametrize("remembered", [False, True], ids=["new order", "remembered"])
@pytest.mark.parametrize(("event", "label"), FIRES)
def test_fire_never_changes_the_callers_snapshot(make_client, event, label, remembered):
    client = make_client()
    # No labels: the event drops the expected dates, a write on the order and its lines.
    client.config.events["Item Set Expected Ship Date"] = EventRule("", "", True)
    if remembered:  # the memory's labels then differ from the snapshot's at both levels
        client.fire("Order Pack", deep_order())
    order = deep_order()
    before = copy.deepcopy(order)
    result = client.fire(event, order, items=["2"], label=label)
    assert order == before
    assert result.order is not order and result.order["items"] is not order["items"]


@pytest.mark.parametrize(("event", "label"), FIRES)
def test_applying_an_event_leaves_the_snapshot_it_is_given_alone(event, label):
    events = load_defaults()[1]
    events["Item Set Expected Ship Date"] = EventRule("", "", True)
    base = deep_order()
    if event in CHANGE_STATUS_EVENTS and label is None:
        edited = deep_order()  # the user set new labels in the order manager
        edited["status"], edited["items"][1]["status"] = "Approved", "Item Packed"
        change = adopt_labels(event, base, edited, ["2"])
    else:
        change = apply_event(event, events[event], base, ["2"], label)
    assert base == deep_order()
    if event == "Item Set Expected Ship Date":  # no labels: it drops the dates instead
        assert "expected_ship_date" not in change.order["items"][1]
    else:
        assert change.changed


def test_what_fire_stores_and_returns_never_follows_the_callers_dict(make_client):
    client = make_client()
    order = deep_order()
    result = client.fire("Order Pack", order, items=["2"])
    returned = copy.deepcopy(result.order)
    [stored] = client.queue.updates()
    # The caller edits its snapshot afterwards, at every depth.
    order["status"] = "Edited"
    order["bill_to"]["name"] = "Someone Else"
    order["items"][0]["status"] = "Edited"
    order["items"].append({"line_id": "9", "status": "Edited"})
    order["tracking"][0]["number"] = "EDITED"
    order["tracking"].append({"number": "EDITED"})
    assert result.order == returned and result.update["order"] == returned
    assert client.queue.updates() == [stored] and stored["order"] == returned
    assert client.remembered(order["order_number"])["items"] == {
        "1": "Item Packed", "2": "Item Packed", "3": "Item Packed"}


def test_check_warns_when_two_notifying_events_share_a_label():
    labels, events = load_defaults()
    events["Order Pack"] = EventRule("Approved", "", True)
    warnings = check_table(labels, events)
    assert len(warnings) == 1
    assert "Order Approve and Order Pack" in warnings[0] and "'Approved'" in warnings[0]


def test_check_ignores_shared_labels_when_one_event_does_not_notify():
    labels, events = load_defaults()
    events["Order Pack"] = EventRule("Approved", "", False)
    assert check_table(labels, events) == []


def test_check_reports_unknown_labels_and_missing_events():
    labels, events = load_defaults()
    events["Order Pack"] = EventRule("Boxed", "", True)
    del events["Order Uncancel"]
    warnings = check_table(labels, events)
    assert any("'Boxed' is not in the label list" in w for w in warnings)
    assert any(w.startswith("Order Uncancel: missing") for w in warnings)
