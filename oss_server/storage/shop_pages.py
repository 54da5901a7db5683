"""Read-only loads behind the shopper pages: fixed statements, no ORM.

Shopper pages are the busiest reads of the service and never change what they read,
so they skip the ORM's identity map and unit of work, and even Core's result layer:
each load is one indexed query, compiled once per process and run on the driver's
cursor (see :mod:`.fixed_reads`). Nothing is cached between requests, so a setting
changed in the portal shows at once. The functions take a Core connection: a page that
only reads need not open an ORM session at all.

The columns are an allow-list, the fields of the row types below: no factor hash,
email or secret ever reaches a view.
"""
from __future__ import annotations

from collections import namedtuple
from datetime import date, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Date, Integer, String, bindparam, literal_column, null, select, union_all
from sqlalchemy.engine import Connection

from ..models import Merchant, Order, OrderItem, StatusChange, Store, Tracking
from ..models.base import UTCDateTime
from .fixed_reads import FixedRead

_stores, _merchants = Store.__table__, Merchant.__table__
_orders, _items = Order.__table__, OrderItem.__table__
_tracking, _history = Tracking.__table__, StatusChange.__table__


class ShopStore(NamedTuple):
    """A store's shopper-facing settings, and how long its merchant has paid for."""

    id: int
    slug: str
    name: str
    support_email: str | None
    support_phone: str | None
    support_url: str | None
    logo_url: str | None
    accent_color: str | None
    allow_zip: bool
    allow_email: bool
    allow_phone: bool
    allowed_origins: list
    label_map: dict
    carrier_rules: list
    timezone: str
    paid_through: date | None


class _OrderRow(NamedTuple):
    # The id, the shown fields of models.order_fields (tests/api/test_order_fields.py holds
    # them equal), then the time: typed here, so written out.
    id: int
    order_number: str
    cart_order_number: str | None
    status: str
    bill_to_name: str | None
    ship_to_name: str | None
    expected_ship_date: date | None
    actual_ship_date: date | None
    updated_at: datetime


class _Version(NamedTuple):
    occurred_at: datetime
    sequence: int
    last_update_id: str
    updated_at: datetime


class ShopItem(NamedTuple):
    line_id: str
    sku: str | None
    name: str | None
    qty_ordered: int
    qty_shipped: int
    qty_needed: int
    status: str | None
    expected_ship_date: date | None
    actual_ship_date: date | None


class ShopTracking(NamedTuple):
    number: str
    carrier: str | None
    shipped_on: date | None


class ShopChange(NamedTuple):
    id: int
    line_id: str | None
    to_status: str
    occurred_at: datetime


def _columns(table, row_type, skip: int = 0) -> list:
    names = row_type._fields[:len(row_type._fields) - skip]
    return [table.c[name] for name in names]


_STORE = FixedRead(
    select(*_columns(_stores, ShopStore, skip=1), _merchants.c.paid_through)
    .join(_merchants, _merchants.c.id == _stores.c.merchant_id)
    .where(_stores.c.slug == bindparam("slug")), ShopStore)
_ORDER = FixedRead(
    select(*_columns(_orders, _OrderRow))
    .where(_orders.c.id == bindparam("order_id"), _orders.c.store_id == bindparam("store_id")),
    _OrderRow)

# A store's row and, beside it, one of its orders' row and the rest of its version (all
# None if not its). The order's columns are prefixed: a store has an id and a name too.
_VERSION_ONLY = tuple(name for name in _Version._fields if name not in _OrderRow._fields)
_PAGE_ORDER = _OrderRow._fields + _VERSION_ONLY
# Its fields are joined at import, which mypy cannot follow (typeshed's namedtuple()
# returns a plain tuple class): its rows are typed Any, read only by shop_store_page.
_StorePage = cast("type[Any]", namedtuple(
    "_StorePage", ShopStore._fields + tuple(f"order_{name}" for name in _PAGE_ORDER)))
_STORE_PAGE = FixedRead(
    select(*_columns(_stores, ShopStore, skip=1), _merchants.c.paid_through,
           *[_orders.c[name].label(f"order_{name}") for name in _PAGE_ORDER])
    .join(_merchants, _merchants.c.id == _stores.c.merchant_id)
    .outerjoin(_orders, (_orders.c.id == bindparam("order_id"))
               & (_orders.c.store_id == _stores.c.id))
    .where(_stores.c.slug == bindparam("slug")), _StorePage)


class _LineRow(NamedTuple):
    """One row of :data:`_LINES`: an item, a tracking number or a change, by ``kind``."""

    # Each slot holds a column of the row's kind (its SQL type is the letter's: text,
    # number, date, time) and NULL in the others: typed Any, as only ``kind`` tells.
    kind: int
    ord: int
    t1: Any
    t2: Any
    t3: Any
    n1: Any
    n2: Any
    n3: Any
    t4: Any
    d1: Any
    d2: Any
    at: Any


_ITEM, _TRACKING_NUMBER, _CHANGE = 0, 1, 2


def _line_select(kind: int, table, order_key, **columns):
    """One branch of :data:`_LINES`: *columns* named as in :class:`_LineRow`, NULL otherwise."""
    types = {"t1": String, "t2": String, "t3": String, "n1": Integer, "n2": Integer,
             "n3": Integer, "t4": String, "d1": Date, "d2": Date, "at": UTCDateTime}
    values = [columns[name].label(name) if name in columns else null().cast(type_).label(name)
              for name, type_ in types.items()]
    return (select(literal_column(str(kind), Integer).label("kind"), order_key.label("ord"),
                   *values)
            .where(table.c.order_id == bindparam("order_id")))


_ITEMS = FixedRead(
    select(*_columns(_items, ShopItem))
    .where(_items.c.order_id == bindparam("order_id")).order_by(_items.c.position), ShopItem)
_TRACKING = FixedRead(
    select(*_columns(_tracking, ShopTracking))
    .where(_tracking.c.order_id == bindparam("order_id")).order_by(_tracking.c.position),
    ShopTracking)
_HISTORY = FixedRead(
    select(*_columns(_history, ShopChange))
    .where(_history.c.order_id == bindparam("order_id")).order_by(_history.c.id), ShopChange)

# The same three reads in one statement (each branch a lookup of the order_id index), for
# PostgreSQL: there each statement is a round trip, the server's executor start-up and
# the client library's work. SQLite runs in-process, where the union's casts and sort cost
# more than the two statements saved (both measured in docs/performance.md).
_LINES = FixedRead(union_all(
    _line_select(_ITEM, _items, _items.c.position, t1=_items.c.line_id, t2=_items.c.sku,
                 t3=_items.c.name, n1=_items.c.qty_ordered, n2=_items.c.qty_shipped,
                 n3=_items.c.qty_needed, t4=_items.c.status, d1=_items.c.expected_ship_date,
                 d2=_items.c.actual_ship_date),
    _line_select(_TRACKING_NUMBER, _tracking, _tracking.c.position, t1=_tracking.c.number,
                 t2=_tracking.c.carrier, d1=_tracking.c.shipped_on),
    _line_select(_CHANGE, _history, _history.c.id, t1=_history.c.line_id,
                 t2=_history.c.to_status, n1=_history.c.id, at=_history.c.occurred_at),
).order_by(literal_column("kind"), literal_column("ord")), _LineRow)


class ShopperOrder(NamedTuple):
    """What the shopper pages read of one order: its row, then its lines."""

    # The fields of _OrderRow (named as on Order), checked below.
    id: int
    order_number: str
    cart_order_number: str | None
    status: str
    bill_to_name: str | None
    ship_to_name: str | None
    expected_ship_date: date | None
    actual_ship_date: date | None
    updated_at: datetime
    items: list[ShopItem]
    tracking: list[ShopTracking]
    history: list[ShopChange]


if ShopperOrder._fields[:len(_OrderRow._fields)] != _OrderRow._fields:
    raise TypeError("ShopperOrder must begin with the fields of _OrderRow")


def shop_store(conn: Connection, slug: str) -> ShopStore | None:
    """Return the store's shopper-facing settings and its ``paid_through``, or None."""
    return _STORE.first(conn, slug=slug)


def shopper_order(conn: Connection, store_id: int, order_id: int) -> ShopperOrder | None:
    """Return one order of the store with its items, tracking and history, or None."""
    row = _ORDER.first(conn, order_id=order_id, store_id=store_id)
    return None if row is None else order_with_lines(conn, row)


def order_with_lines(conn: Connection, row: _OrderRow) -> ShopperOrder:
    """Return the order of *row* (as :class:`StorePage` holds it) in full."""
    if conn.dialect.name == "sqlite":
        order_id = row.id
        return ShopperOrder(*row, items=_ITEMS.all(conn, order_id=order_id),
                            tracking=_TRACKING.all(conn, order_id=order_id),
                            history=_HISTORY.all(conn, order_id=order_id))
    items: list[ShopItem] = []
    tracking: list[ShopTracking] = []
    history: list[ShopChange] = []
    for line in _LINES.all(conn, order_id=row.id):
        if line.kind == _ITEM:
            items.append(ShopItem(line.t1, line.t2, line.t3, line.n1, line.n2, line.n3,
                                  line.t4, line.d1, line.d2))
        elif line.kind == _TRACKING_NUMBER:
            tracking.append(ShopTracking(line.t1, line.t2, line.d1))
        else:
            history.append(ShopChange(line.n1, line.t1, line.t2, line.at))
    return ShopperOrder(*row, items=items, tracking=tracking, history=history)


class StorePage(NamedTuple):
    """What a status page reads first: the store, and its order's row and version."""

    store: ShopStore
    order: _OrderRow | None  # the order's row (the fields of ShopperOrder before its lines)
    version: _Version | None


def shop_store_page(conn: Connection, slug: str, order_id: int) -> StorePage | None:
    """Return the store with *slug* and the row and version of its order *order_id*.

    One query: a status page needs both before anything else, and on PostgreSQL each read
    is a round trip. None when there is no such store; order and version are None when
    the store has no such order. The version changes whenever anything a shopper sees of
    the order does: only the snapshot writer changes an order's items, tracking and
    history, and it always stores the new snapshot's ordering key with them; stale
    snapshots are refused, so the key (with the update id and the write time) never
    repeats for other content.
    """
    row = _STORE_PAGE.first(conn, slug=slug, order_id=order_id)
    if row is None:
        return None
    split = len(ShopStore._fields)
    store = ShopStore._make(row[:split])
    if row.order_id is None:
        return StorePage(store, None, None)
    order = _OrderRow._make(row[split:split + len(_OrderRow._fields)])
    fields = dict(zip(_PAGE_ORDER, row[split:]))
    return StorePage(store, order, _Version(*(fields[name] for name in _Version._fields)))
