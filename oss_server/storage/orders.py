"""Ingestion's order reads and writes: by key within a store, on the batch's session.

The reads are keyed reads on the driver's cursor (:mod:`.keyed_reads`), the writes bulk
statements (:mod:`.bulk_writes`). Concurrency between batches is :mod:`.ingestion`'s.
"""
from __future__ import annotations

from collections.abc import Iterable

from ..models import Activity, Order, OrderItem, StatusChange, Tracking, UpdateReceipt
from . import DbSession
from .bulk_writes import delete_rows, insert_rows, update_rows
from .keyed_reads import KeyedRead, Pending

_ORDERS = Order.__table__
_ITEMS = OrderItem.__table__
_TRACKING = Tracking.__table__
# Locked while the batch runs: a concurrent batch changing the same order waits, then
# reads what this one wrote, so an older snapshot can never be written over a newer one
# that committed in between (READ COMMITTED would let both pass the staleness check).
_STORED_ORDERS = KeyedRead(_ORDERS, ("id", "order_key", "status", "occurred_at", "sequence"),
                           "order_key", scoped=True, lock=True, unique=True)
# Planned per batch: a generic plan made for a small table would scan all the lines.
_STORED_LINES = KeyedRead(_ITEMS, ("order_id", "line_id", "status"), "order_id", replan=True)
_ORDER_IDS = KeyedRead(_ORDERS, ("order_key", "id"), "order_key", scoped=True, unique=True)
_RECEIVED = KeyedRead(UpdateReceipt.__table__, ("update_id",), "update_id", scoped=True,
                      unique=True)


def send_order_states(session: DbSession, store_id: int, keys: Iterable[str]) -> Pending:
    """Start reading the stored orders named by *keys* (rows: id, key, status, time, sequence)."""
    return _STORED_ORDERS.send(session, keys, store_id)


def read_order_states(session: DbSession, store_id: int, keys: Iterable[str]) -> list[tuple]:
    """The stored orders named by *keys*, locked until the batch ends (PostgreSQL)."""
    return _STORED_ORDERS.all(session, keys, store_id)


def read_line_states(session: DbSession, order_ids: Iterable[int]) -> list[tuple]:
    """The lines of the orders *order_ids*: (order id, line id, status)."""
    return _STORED_LINES.all(session, order_ids)


def send_seen_update_ids(session: DbSession, store_id: int, ids: Iterable[str]) -> Pending:
    """Start reading which of *ids* the store already holds receipts for."""
    return _RECEIVED.send(session, ids, store_id)


def read_seen_update_ids(session: DbSession, store_id: int, ids: Iterable[str]) -> set[str]:
    """Which of *ids* the store already holds receipts for."""
    return {update_id for (update_id,) in _RECEIVED.all(session, ids, store_id)}


def insert_orders(session: DbSession, store_id: int, rows: list[dict]) -> dict[str, int]:
    """Insert new orders (rows carry ``order_key``); return their ids by key."""
    insert_rows(session, _ORDERS, rows)
    # A bulk INSERT (or COPY) returns no ids: read them back by the unique key.
    return dict(_ORDER_IDS.all(session, (row["order_key"] for row in rows), store_id))


def replace_orders(session: DbSession, rows: list[dict]) -> None:
    """Write stored orders' new snapshots (rows carry ``id``); their lines and tracking go."""
    update_rows(session, _ORDERS, rows)
    # A snapshot replaces the lines and tracking whole.
    ids = [row["id"] for row in rows]
    for child in (_ITEMS, _TRACKING):
        delete_rows(session, child, "order_id", ids)


def write_snapshots(session: DbSession, items: list[dict], tracking: list[dict],
                    history: list[dict], receipts: list[dict], activity: list[dict]) -> None:
    """Insert a batch's order lines, tracking, status history, receipts and activity."""
    for table, rows in ((_ITEMS, items), (_TRACKING, tracking),
                        (StatusChange.__table__, history),
                        (UpdateReceipt.__table__, receipts), (Activity.__table__, activity)):
        insert_rows(session, table, rows)
