"""A shopper lookup's statements: the candidate orders, the remembered language, the tally.

Each runs on the driver's cursor (see :mod:`.fixed_reads`): every lookup runs them, on
the limiter's transaction, and through Core a statement costs more than SQLite takes to
run it. Ids, keys and factor hashes are integers and strings, which the drivers hand
over as Core would.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import NamedTuple

from sqlalchemy.engine import Connection, Dialect

from ..models import LookupStat, Order
from .fixed_reads import bind_processor, driver_execute, driver_mark

_orders = Order.__table__
_SELECT = ("SELECT id, order_key, zip_hash, email_hash, phone_hash, shopper_locale"
           f" FROM {_orders.name} WHERE store_id = {{0}} AND ")
# Each number on its own index: the order number on the unique (store_id, order_key), the
# cart number on (store_id, cart_key). As one `order_key = ? OR cart_key = ?`, SQLite
# without statistics (a database nobody ran ANALYZE on: every new install) chose the
# (store_id, updated_at) index and read all the store's orders under the limiter's write
# lock, so lookups slowed with the store's size. Two branches leave SQLite no other plan,
# and no other index of orders can serve either branch (see the model), so PostgreSQL
# before its first ANALYZE takes the same ones. The second skips the order the first
# found: no row comes twice.
_CANDIDATES = (_SELECT + "order_key = {0} UNION ALL "
               + _SELECT + "cart_key = {0} AND order_key <> {0}")
_REMEMBER_LOCALE = f"UPDATE {_orders.name} SET shopper_locale = {{0}} WHERE id = {{0}}"


class Candidate(NamedTuple):
    """An order a lookup's number may name, with what its verifier is checked against."""

    id: int
    order_key: str
    zip_hash: str | None
    email_hash: str | None
    phone_hash: str | None
    shopper_locale: str | None


def order_candidates(conn: Connection, store_id: int, key: str) -> list[Candidate]:
    """The store's orders whose order number or cart number is *key* (at most a few)."""
    sql = _CANDIDATES.format(driver_mark(conn.dialect))
    rows = driver_execute(conn, sql, [store_id, key, store_id, key, key], fetch=True)
    return [Candidate._make(row) for row in rows]


def remember_locale(conn: Connection, order_id: int, locale: str) -> None:
    """Store the language the shopper reads the order in (its status emails follow it)."""
    driver_execute(conn, _REMEMBER_LOCALE.format(driver_mark(conn.dialect)),
                   [locale[:8], order_id])


LOOKUP_OUTCOMES = ("found", "not_found", "limited")


def add_to_tally(conn: Connection, store_id: int, day: date, outcome: str) -> None:
    """Add one lookup with *outcome* to the store's tally for *day*.

    One atomic upsert: concurrent workers add to the same row without losing counts.
    """
    sql, to_day = _tally(conn.dialect, outcome)
    counts = [1 if name == outcome else 0 for name in LOOKUP_OUTCOMES]
    driver_execute(conn, sql, [store_id, to_day(day), *counts])


def add_to_tally_now(conn: Connection, store_id: int, day: date, outcome: str) -> None:
    """:func:`add_to_tally` on a transaction of its own, committed at once."""
    with conn.begin():
        add_to_tally(conn, store_id, day, outcome)


_TALLIES: dict[tuple[str, str], tuple[str, Callable]] = {}


def _tally(dialect: Dialect, outcome: str) -> tuple[str, Callable]:
    """The tally's upsert in the driver's SQL, and the day's conversion (as Core stores it)."""
    key = (dialect.name, outcome)
    if key not in _TALLIES:
        table = LookupStat.__table__
        mark = driver_mark(dialect)
        columns = ("store_id", "day", *LOOKUP_OUTCOMES)
        sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
               f"VALUES ({', '.join([mark] * len(columns))}) "
               f"ON CONFLICT (store_id, day) DO UPDATE SET {outcome} = {table.name}.{outcome} + 1")
        _TALLIES[key] = (sql, bind_processor(table.c.day.type, dialect))
    return _TALLIES[key]
