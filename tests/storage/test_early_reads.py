"""Receipts and orders read before validation: an update validation reshapes still counts."""
from datetime import datetime, timezone

from oss_server.models import UpdateReceipt
from oss_server.services.updates import names_in_batch, seen_update_ids
from oss_server.storage.bulk_writes import insert_rows
from oss_server.storage.orders import send_seen_update_ids


def test_named_takes_what_a_raw_batch_names_and_skips_what_cannot_be_valid():
    raw = [{"update_id": "u-1", "order": {"order_number": " A-1 "}},
           {"update_id": "x" * 65, "order": {"order_number": "y" * 65}},
           {"update_id": 7, "order": "not an order"}, "not an update", None]
    assert names_in_batch(raw) == ({"u-1"}, {"a-1"})


def test_a_valid_id_the_early_read_missed_is_read_afterwards(session, make_store):
    store = make_store()
    insert_rows(session, UpdateReceipt.__table__, [
        {"store_id": store.id, "update_id": u, "outcome": "applied",
         "received_at": datetime(2026, 3, 1, tzinfo=timezone.utc)} for u in ("u-1", "u-2")])
    early = send_seen_update_ids(session, store.id, ["u-1"])
    valid = [{"update_id": "u-1"}, {"update_id": "u-2"}, {"update_id": "u-3"}]
    assert seen_update_ids(session, store, valid, early, {"u-1"}) == {"u-1", "u-2"}


def test_named_leaves_out_what_the_database_could_not_take():
    raw = [{"update_id": "u\x00", "order": {"order_number": "\ud800"}},
           {"update_id": "ü-1", "order": {"order_number": "A\n1"}}]
    assert names_in_batch(raw) == (set(), set())
