"""Keyed reads on the driver's cursor return what Core returns."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from oss_server.models import Order, OrderItem, UpdateReceipt
from oss_server.services.snapshot_writer import SnapshotWriter
from oss_server.storage.bulk_writes import insert_rows
from oss_server.storage.keyed_reads import KeyedRead, ahead

WHEN = datetime(2026, 3, 1, 9, 30, 15, 250000, tzinfo=timezone(timedelta(hours=-5)))
_ORDERS = KeyedRead(Order.__table__, ("id", "order_key", "occurred_at", "sequence"),
                    "order_key", scoped=True)
_LINES = KeyedRead(OrderItem.__table__, ("order_id", "line_id", "status"), "order_id")


def _orders(session, store, numbers):
    insert_rows(session, Order.__table__, [
        {"store_id": store.id, "order_number": n, "order_key": n.lower(), "status": "Paid",
         "occurred_at": WHEN, "sequence": 3, "last_update_id": "u", "created_at": WHEN,
         "updated_at": WHEN} for n in numbers])


def test_rows_and_converted_values_match_core(session, make_store):
    store = make_store()
    _orders(session, store, ["A", "B", "C"])
    core = session.execute(select(Order.id, Order.order_key, Order.occurred_at, Order.sequence)
                           .where(Order.order_key.in_(["a", "c"]))).all()
    rows = _ORDERS.all(session, {"a", "c", "zz"}, store.id)
    assert sorted(rows) == sorted(tuple(row) for row in core)
    assert all(row[2] == WHEN and row[2].tzinfo is not None for row in rows)


def test_scoped_to_the_store(session, make_store):
    mine, other = make_store(), make_store()
    _orders(session, other, ["A"])
    assert _ORDERS.all(session, ["a"], mine.id) == []


def test_integer_keys_and_no_values(session, make_store):
    store = make_store()
    _orders(session, store, ["A", "B"])
    ids = dict(session.execute(select(Order.order_key, Order.id)).all())
    insert_rows(session, OrderItem.__table__, [
        {"order_id": ids[k], "position": 0, "line_id": "1", "status": s, "qty_ordered": 1,
         "qty_shipped": 0, "qty_needed": 1} for k, s in (("a", "Packed"), ("b", None))])
    assert sorted(_LINES.all(session, ids.values())) == sorted(
        [(ids["a"], "1", "Packed"), (ids["b"], "1", None)])
    assert _LINES.all(session, []) == []


def test_a_failing_read_raises_as_core_does(session, make_store):
    broken = KeyedRead(Order.__table__, ("no_such_column",), "order_key")
    with pytest.raises(DBAPIError):
        broken.all(session, ["a"])
    session.rollback()


def test_reads_sent_ahead_return_their_rows_after_the_block(session, make_store):
    store = make_store()
    _orders(session, store, ["A", "B"])
    with ahead(session):
        first = _ORDERS.send(session, ["a"], store.id)
        second = _ORDERS.send(session, ["b", "zz"], store.id)
        nothing = _ORDERS.send(session, [], store.id)
    assert [row[1] for row in first.rows()] == ["a"]
    assert [row[1] for row in second.rows()] == ["b"]
    assert nothing.rows() == []


def test_a_read_sent_ahead_that_fails_raises_as_core_does(session, make_store):
    broken = KeyedRead(Order.__table__, ("no_such_column",), "order_key")
    with pytest.raises(DBAPIError):
        with ahead(session):
            pending = broken.send(session, ["a"])
        pending.rows()
    session.rollback()


def test_the_writer_reads_keys_the_early_read_did_not_cover(session, make_store):
    # Validation may shape a number differently from the raw guess: the writer reads it.
    store = make_store()
    _orders(session, store, ["A", "B"])
    writer = SnapshotWriter(session, store, "key", WHEN)
    early = writer.send_load({"a"})
    writer.load({"a", "b"}, early, {"a"})
    assert writer.state("a").id is not None and writer.state("b").id is not None
    assert writer.state("b").key == (WHEN.astimezone(timezone.utc), 3)


_RECEIPTS = KeyedRead(UpdateReceipt.__table__, ("update_id", "outcome"), "update_id",
                      scoped=True, unique=True)


def _receipts(session, store, ids):
    insert_rows(session, UpdateReceipt.__table__, [
        {"store_id": store.id, "update_id": i, "outcome": "applied", "received_at": WHEN}
        for i in ids])


def test_a_unique_key_read_returns_each_row_once_and_only_the_stores(session, make_store):
    mine, other = make_store(), make_store()
    _receipts(session, mine, ["u1", "u2"])
    _receipts(session, other, ["u1", "u3"])
    rows = _RECEIPTS.all(session, ["u1", "u2", "u1", "u3", "zz"], mine.id)
    assert sorted(rows) == [("u1", "applied"), ("u2", "applied")]
    with ahead(session):
        pending = _RECEIPTS.send(session, ["u2"], mine.id)
    assert pending.rows() == [("u2", "applied")]


def test_a_unique_key_read_probes_the_index_in_a_plan_made_without_statistics(
        session, make_store):
    # A plan kept from before the table was analyzed must still find each key by the
    # index, not read all of the store's rows and search the array for each (the
    # ingestion batch's receipt check did, as `store_id = $1 AND update_id = ANY($2)`).
    if session.connection().dialect.name != "postgresql":
        pytest.skip("plans kept by prepared statements are PostgreSQL's")
    store = make_store()
    _receipts(session, store, [f"u{i}" for i in range(3000)])
    sql = _RECEIPTS.statement_text(session.connection().dialect)
    numbered = sql.replace("%s", "$1", 1).replace("%s", "$2", 1)
    session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
    session.execute(text(f"PREPARE keyed_probe(text[], int) AS {numbered}"))
    try:
        plan = "\n".join(session.execute(text(
            f"EXPLAIN EXECUTE keyed_probe(ARRAY['u1'], {int(store.id)})")).scalars())
    finally:
        session.execute(text("DEALLOCATE keyed_probe"))
    condition = plan.split("Index Cond:")[1].splitlines()[0]
    assert "store_id" in condition and "update_id" in condition, plan
    assert "Filter" not in plan, plan


def test_a_replanned_read_is_never_kept_as_a_prepared_statement(session, make_store):
    # Kept, its plan would be the one made when the table was small (see KeyedRead).
    if session.connection().dialect.name != "postgresql":
        pytest.skip("prepared statements kept by the driver are PostgreSQL's")
    store = make_store()
    _orders(session, store, ["A"])
    replanned = KeyedRead(Order.__table__, ("id",), "order_key", scoped=True, replan=True)
    kept = KeyedRead(Order.__table__, ("id", "sequence"), "order_key", scoped=True)
    for _ in range(8):
        assert len(replanned.all(session, ["a"], store.id)) == 1
        assert len(kept.all(session, ["a"], store.id)) == 1
    prepared = session.execute(text("SELECT statement FROM pg_prepared_statements")).scalars()
    prepared = list(prepared)
    assert any(sql.startswith('SELECT id, sequence FROM') for sql in prepared), prepared
    assert not any(sql.startswith("SELECT id FROM") for sql in prepared), prepared
