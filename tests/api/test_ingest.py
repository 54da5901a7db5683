"""POST /api/v1/updates: idempotency, ordering, partial batches."""
from sqlalchemy import select

from oss_server.models import Activity, Order, StatusChange

from ..conftest import make_update
from ..json_walk import keys_of, leaf_values


def test_applied_then_readable(api):
    assert api.results(make_update()) == ["applied"]
    body = api.order("1001").get_json()
    assert body["status"] == "Approved"
    assert body["cart_order_number"] == "W-1001"
    assert [i["sku"] for i in body["items"]] == ["MUG", "CAP"]
    assert body["bill_to"] == {"name": "Pat Doe"}
    # No verification factor comes back: neither its field nor its value (however formatted).
    assert {"zip", "email", "phone"}.isdisjoint(keys_of(body))
    values = [str(v).casefold() for v in leaf_values(body)]
    for factor in ("10001", "pat@example.com", "555-0199", "5550199", "2125550199"):
        assert not any(factor in v for v in values), factor
    assert body["updated_at"]
    assert [h["to_status"] for h in body["history"] if h["line_id"] is None] == ["Approved"]


def test_same_update_twice_is_duplicate_and_changes_nothing(api, session):
    assert api.results(make_update()) == ["applied"]
    again = make_update(status="Shipped")  # same update_id, different content
    assert api.results(again) == ["duplicate"]
    assert api.order("1001").get_json()["status"] == "Approved"
    assert session.scalar(select(Order.last_update_id)) == "u-1"


def test_duplicate_within_one_batch(api):
    assert api.results(make_update(), make_update()) == ["applied", "duplicate"]


def test_newer_then_older_is_stale(api, utc):
    newer = make_update("u-2", 5, utc(2026, 11, 20, 12), status="Shipped")
    older = make_update("u-1", 4, utc(2026, 11, 20, 11), status="Approved")
    assert api.results(newer) == ["applied"]
    assert api.results(older) == ["stale"]
    assert api.order("1001").get_json()["status"] == "Shipped"


def test_equal_key_is_stale(api, utc):
    first = make_update("u-1", 3, utc(2026, 11, 20, 12), status="Packed")
    same_key = make_update("u-2", 3, utc(2026, 11, 20, 12), status="Shipped")
    assert api.results(first, same_key) == ["applied", "stale"]
    assert api.order("1001").get_json()["status"] == "Packed"


def test_sequence_breaks_ties_on_time(api, utc):
    first = make_update("u-1", 3, utc(2026, 11, 20, 12), status="Packed")
    later_seq = make_update("u-2", 4, utc(2026, 11, 20, 12), status="Shipped")
    assert api.results(first, later_seq) == ["applied", "applied"]
    assert api.order("1001").get_json()["status"] == "Shipped"


def test_offsets_compare_as_instants(api):
    # 13:00+02:00 is 11:00Z: older than 12:00Z even though the wall clock is later.
    newer = make_update("u-1", 1, "2026-11-20T12:00:00Z", status="Shipped")
    older = make_update("u-2", 2, "2026-11-20T13:00:00+02:00", status="Approved")
    assert api.results(newer, older) == ["applied", "stale"]


def test_stale_resend_is_duplicate(api, utc):
    api.results(make_update("u-2", 5, utc(2026, 11, 20, 12)))
    assert api.results(make_update("u-1", 1, utc(2026, 11, 20, 11))) == ["stale"]
    assert api.results(make_update("u-1", 1, utc(2026, 11, 20, 11))) == ["duplicate"]


def test_partial_batch_keeps_the_good_updates(api, session):
    bad = make_update("u-2", order_number="2002")
    bad["order"]["items"][0]["qty_ordered"] = -1
    good = make_update("u-3", order_number="3003")
    response = api.post(make_update(), bad, good)
    results = response.get_json()["results"]
    assert [r["update_id"] for r in results] == ["u-1", "u-2", "u-3"]
    assert [r["result"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["errors"] == {
        "order.items.0.qty_ordered":
            "Must be greater than or equal to 0 and less than or equal to 1000000."}
    numbers = set(session.scalars(select(Order.order_number)))
    assert numbers == {"1001", "3003"}


def test_rejected_update_stores_nothing_and_may_be_resent_fixed(api, session):
    bad = make_update(status="")
    assert api.results(bad) == ["rejected"]
    assert session.scalar(select(Order.id)) is None
    assert api.results(make_update()) == ["applied"]


def test_history_records_order_and_item_label_changes(api, session, utc):
    api.results(make_update("u-1", 1, utc(2026, 11, 20, 10)))
    shipped = make_update("u-2", 2, utc(2026, 11, 20, 11), status="Some Items Shipped")
    shipped["order"]["items"][0]["status"] = "Item Shipped"
    shipped["event"] = "Order Pack"
    api.results(shipped)
    same_labels = make_update("u-3", 3, utc(2026, 11, 20, 12), status="Some Items Shipped")
    same_labels["order"]["items"][0]["status"] = "Item Shipped"
    api.results(same_labels)
    rows = session.scalars(select(StatusChange).order_by(StatusChange.id)).all()
    changes = [(r.line_id, r.from_status, r.to_status) for r in rows]
    assert changes == [
        (None, None, "Approved"), ("1", None, "Item Pending"), ("2", None, "Item Pending"),
        (None, "Approved", "Some Items Shipped"), ("1", "Item Pending", "Item Shipped"),
    ]
    assert rows[3].event == "Order Pack"


def test_snapshot_replaces_lines_and_tracking(api, utc):
    api.results(make_update("u-1", 1, utc(2026, 11, 20, 10)))
    update = make_update("u-2", 2, utc(2026, 11, 20, 11), status="Shipped",
                         tracking=[{"number": "1Z999AA10123456784", "carrier": "UPS"}])
    update["order"]["items"] = [update["order"]["items"][1]]
    api.results(update)
    body = api.order("1001").get_json()
    assert [i["line_id"] for i in body["items"]] == ["2"]
    assert body["tracking"] == [{"number": "1Z999AA10123456784", "carrier": "UPS",
                                 "shipped_on": None}]


def test_order_numbers_compare_trimmed_and_case_insensitively(api):
    api.results(make_update(order_number="ab-77"))
    update = make_update("u-2", 2, "2026-11-21T00:00:00Z", order_number=" AB-77 ")
    assert api.results(update) == ["applied"]
    assert api.order("AB-77").status_code == 200
    assert api.order("ab-77").get_json()["order_number"] == "AB-77"


def test_activity_log_records_every_outcome(api, session):
    bad = make_update("u-9", status="")
    api.post(make_update(), make_update(), bad)
    rows = session.scalars(select(Activity).order_by(Activity.id)).all()
    assert [(r.update_id, r.outcome) for r in rows] == [
        ("u-1", "applied"), ("u-1", "duplicate"), ("u-9", "rejected")]
    assert rows[2].errors == {"order.status": "Length must be between 1 and 64."}



def test_a_nul_rejects_its_update_not_the_batch(api):
    # The batch's receipts and orders are looked up before validation: a value the
    # database cannot take (PostgreSQL text holds no NUL) must stay out of that lookup.
    nul = make_update("u-\x00", order_number="20\x0002")
    results = api.post(nul, make_update("u-4")).get_json()["results"]
    assert [r["result"] for r in results] == ["rejected", "applied"]
