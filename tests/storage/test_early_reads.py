"""Receipts and orders read before validation: an update validation reshapes still counts."""
from datetime import datetime, timezone

from oss_server.models import UpdateReceipt
from oss_server.services.updates import _RECEIVED, _named, _seen_ids
from oss_server.storage.bulk_writes import insert_rows


def test_named_takes_what_a_raw_batch_names_and_skips_what_cannot_be_valid():
    raw = [{"update_id": "u-1", "order": {"order_number": " A-1 "}},
           {"update_id": "x" * 65, "order": {"order_number": "y" * 65}},
           {"update_id": 7, "order": "not an order"}, "not an update", None]
    assert _named(raw) == ({"u-1"}, {"a-1"})


def test_a_valid_id_the_early_read_missed_is_read_afterwards(session, make_store):
    store = make_store()
    insert_rows(session, UpdateReceipt.__table__, [
        {"store_id": store.id, "update_id": u, "outcome": "applied",
         "received_at": datetime(2026, 3, 1, tzinfo=timezone.utc)} for u in ("u-1", "u-2")])
    early = _RECEIVED.send(session, ["u-1"], store.id)
    valid = [{"update_id": "u-1"}, {"update_id": "u-2"}, {"update_id": "u-3"}]
    assert _seen_ids(session, store, valid, early, {"u-1"}) == {"u-1", "u-2"}


def test_named_leaves_out_what_the_database_could_not_take():
    raw = [{"update_id": "u\x00", "order": {"order_number": "\ud800"}},
           {"update_id": "ü-1", "order": {"order_number": "A\n1"}}]
    assert _named(raw) == (set(), set())
