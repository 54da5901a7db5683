"""Helpers for the plan tests: a store of a few thousand orders, and the statements a read runs."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.pool.base import _ConnectionFairy

from oss_server.extensions import db
from oss_server.models import Order, OrderItem, StatusChange, Store, Tracking
from oss_server.security.factors import FactorHasher
from oss_server.services.updates import apply_updates

from ..conftest import TEST_FACTOR_KEY, make_update

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)
_NO_ARGS = object()


def number(serial: int) -> str:
    """The order number of seeded order *serial*; its cart number is ``W-`` before it."""
    return f"P{serial:06d}"


def zip_of(serial: int) -> str:
    """The billing ZIP seeded order *serial* was given."""
    return f"{10000 + serial:05d}"


def seed_orders(conn, store_id: int, first: int, count: int, factor_key: str) -> None:
    """Insert orders first..first+count-1 of the store, each with an item, tracking, a change."""
    hasher = FactorHasher(factor_key)
    rows = []
    for serial in range(first, first + count):
        hashes = hasher.bill_to(zip_of(serial), None, None)
        rows.append({"store_id": store_id, "order_number": number(serial),
                     "order_key": number(serial).casefold(),
                     "cart_order_number": f"W-{number(serial)}",
                     "cart_key": f"w-{number(serial)}".casefold(), "status": "Shipped",
                     "zip_hash": hashes["zip_hash"], "occurred_at": WHEN, "sequence": 1,
                     "last_update_id": f"u-{serial}", "created_at": WHEN,
                     # Spread over time, so "latest first" has something to order.
                     "updated_at": WHEN.replace(minute=serial % 60, second=serial % 59)})
    conn.execute(Order.__table__.insert(), rows)
    ids = conn.execute(select(Order.id).where(Order.store_id == store_id,
                                              Order.order_key.in_([r["order_key"] for r in rows])))
    ids = [order_id for (order_id,) in ids]
    conn.execute(OrderItem.__table__.insert(), [
        {"order_id": i, "position": 0, "line_id": "1", "sku": "MUG", "name": "Mug",
         "qty_ordered": 1, "qty_shipped": 1, "qty_needed": 0, "status": "Shipped"} for i in ids])
    conn.execute(Tracking.__table__.insert(), [
        {"order_id": i, "position": 0, "number": f"1Z{i:016d}", "carrier": "UPS"} for i in ids])
    conn.execute(StatusChange.__table__.insert(), [
        {"order_id": i, "to_status": "Shipped", "occurred_at": WHEN} for i in ids])


class _Recording:
    """A DBAPI cursor that notes each statement and its arguments before running it."""

    def __init__(self, cursor, seen: list):
        self._cursor, self._seen = cursor, seen

    def execute(self, sql, args=_NO_ARGS, *more, **options):
        self._seen.append((sql, None if args is _NO_ARGS else args))
        if options.get("prepare") is False:  # psycopg's: never planned generically
            self._seen.unprepared.add(sql)
        if args is _NO_ARGS:
            return self._cursor.execute(sql, *more, **options)
        return self._cursor.execute(sql, args, *more, **options)

    def executemany(self, sql, seq, *more, **options):
        seq = list(seq)
        if seq:
            self._seen.append((sql, seq[0]))
        return self._cursor.executemany(sql, seq, *more, **options)

    def __getattr__(self, name):
        return getattr(self._cursor, name)

    def __iter__(self):
        return iter(self._cursor)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._cursor.__exit__(*exc)


class Seen(list):
    """The (sql, args) of each statement run, and the texts run unprepared (PostgreSQL)."""

    def __init__(self):
        super().__init__()
        self.unprepared: set[str] = set()


def apply_plan_batch(monkeypatch, store_id: int, last: int) -> list:
    """Apply one batch (orders 10, 1500 and *last* stored, one new) and its replay.

    Return the statements the two batches sent to the driver, after checking that the
    first applied all four updates and the replay was a duplicate.
    """
    store = db.session.get(Store, store_id)
    updates = [make_update(f"u-plan-{n}", sequence=5, order_number=number(n),
                           cart_order_number=f"W-{number(n)}", status="Delivered")
               for n in (10, 1500, last)]
    updates.append(make_update("u-plan-new", order_number="NEW-1", cart_order_number="W-NEW-1"))
    with statements(monkeypatch) as seen:
        result = apply_updates(db.session, store, updates, factor_key=TEST_FACTOR_KEY)
        again = apply_updates(db.session, store, updates[:1], factor_key=TEST_FACTOR_KEY)
    assert [r["result"] for r in result.results] == ["applied"] * 4
    assert [r["result"] for r in again.results] == ["duplicate"]
    return seen


@contextmanager
def statements(monkeypatch):
    """Yield a list that fills with (sql, args) of every statement run on a pooled cursor.

    Core's ``before_cursor_execute`` event does not see them all: the shopper lookup, the
    status page and ingestion's keyed reads run on the driver's own cursor, past Core.
    Both take their cursor from the pooled connection, so the recording sits there.
    """
    seen = Seen()
    original = _ConnectionFairy.cursor
    monkeypatch.setattr(_ConnectionFairy, "cursor",
                        lambda self, *a, **kw: _Recording(original(self, *a, **kw), seen))
    try:
        yield seen
    finally:
        monkeypatch.setattr(_ConnectionFairy, "cursor", original)


_ACCESS = re.compile(r"^(SEARCH|SCAN) (\w+)(?: AS \w+)?(?: USING (?:COVERING )?INDEX (\w+)"
                     r"| USING (?:INTEGER )?PRIMARY KEY)?")


def sqlite_plan(raw, sql: str, args) -> list[str]:
    """The lines of SQLite's EXPLAIN QUERY PLAN for *sql* run with *args*."""
    cursor = raw.cursor()
    try:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, args or ())
        return [row[3] for row in cursor.fetchall()]
    finally:
        cursor.close()


def accesses(plan: list[str]) -> list[tuple[str, str, str]]:
    """(SEARCH or SCAN, table, index — ``PRIMARY KEY`` for the rowid, "" for none) per line."""
    found = []
    for line in plan:
        match = _ACCESS.match(line.strip())
        if match:
            how, table, index = match.groups()
            if index is None:
                index = "PRIMARY KEY" if "PRIMARY KEY" in line else ""
            found.append((how, table, index))
    return found
