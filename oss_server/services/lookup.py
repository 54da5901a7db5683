"""Shopper lookup: an order number and one verifier, under the failure limits."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import NamedTuple

from sqlalchemy.engine import Connection

from ..security.factors import matches, verifier_hashes
from ..storage import DbSession
from ..storage.lookups import Candidate, add_to_tally_now, order_candidates, remember_locale
from ..storage.shop_pages import ShopperOrder, ShopStore, shopper_order
from .limits import Locked, LookupLimiter
from .lookup_stats import record_lookup
from .orders import order_key


class FoundOrder(NamedTuple):
    """The order a lookup matched; the status page loads what it shows by this id."""

    id: int
    shopper_locale: str | None = None


def lookup_order(db: DbSession | Connection, store, number: str, verifier: str,
                 factor_key: str) -> FoundOrder | None:
    """Return the store's order matching *number* (order or cart number) and *verifier*.

    *store* is a :class:`Store` or the row the shopper pages read of it; *db* a session
    or a connection. A miss does the same work as a hit: the verifier is hashed in every
    form and compared with a stand-in when no order has that number, so the response
    time tells nothing about which orders exist.
    """
    key = order_key(number)
    typed = verifier_hashes(factor_key, verifier)
    conn = db if isinstance(db, Connection) else db.connection()
    candidates = order_candidates(conn, store.id, key)
    # The order manager's own number wins over a cart number that happens to equal it.
    candidates.sort(key=lambda order: order.order_key != key)
    found = None
    tried: Sequence[Candidate | None] = candidates or [None]
    for order in tried:
        stored = _allowed_hashes(store, order)
        hit = False
        for kind in ("zip", "email", "phone"):
            hit = matches(stored[kind], typed[kind]) or hit  # no short-circuit: same work
        if hit and found is None and order is not None:
            found = FoundOrder(order.id, order.shopper_locale)
    return found


def _allowed_hashes(store, order) -> dict[str, str | None]:
    if order is None:
        return {"zip": None, "email": None, "phone": None}
    return {"zip": order.zip_hash if store.allow_zip else None,
            "email": order.email_hash if store.allow_email else None,
            "phone": order.phone_hash if store.allow_phone else None}


@dataclass
class LookupResult:
    """A found order, or none; ``retry_after`` (seconds) when the lookup was refused."""

    order: FoundOrder | None = None
    retry_after: int | None = None


def guarded_lookup(limiter: LookupLimiter, store, number: str, verifier: str,
                   address: str | None, factor_key: str, today: date | None = None,
                   locale: str | None = None, conn: Connection | None = None) -> LookupResult:
    """Look an order up under the failure limits and count the outcome for the store.

    A found order remembers *locale*, the language the shopper reads in, so the status
    emails that follow are written in it. *conn* is the limiter's
    :meth:`~LookupLimiter.connection`, when the caller read the store on it. Everything
    the lookup writes commits on the limiter's transactions: the request's session is
    never used.
    """
    # The UTC day, as the portal's charts count days (and update activity is stamped).
    today = today or datetime.now(timezone.utc).date()

    def check(conn: Connection) -> FoundOrder | None:
        # On the limiter's own transaction: the lookup, its tally and a failure's count
        # then commit together, in one write per lookup.
        order = lookup_order(conn, store, number, verifier, factor_key)
        record_lookup(conn, store, today, "found" if order is not None else "not_found")
        if order is not None and locale and order.shopper_locale != locale:
            remember_locale(conn, order.id, locale)
        return order

    with ExitStack() as stack:
        if conn is None:
            conn = stack.enter_context(limiter.connection())
        try:
            order = limiter.attempt(store.id, number, address, check, conn)
        except Locked as locked:
            # Refused before any factor is checked: even the right verifier gets no answer.
            add_to_tally_now(conn, store.id, today, "limited")
            return LookupResult(retry_after=locked.retry_after)
    return LookupResult(order=order)


@dataclass
class ShopperLookup:
    """What a shopper's lookup request renders: the store, and the lookup's result.

    ``result`` is None when nothing was looked up (the form was invalid); ``order_row``
    is the found order's status-page row when it was asked for.
    """

    store: ShopStore
    result: LookupResult | None = None
    order_row: ShopperOrder | None = None


def shopper_lookup(limiter: LookupLimiter, open_store: Callable[[Connection], ShopStore],
                   posted: tuple[str, str] | None, address: str | None, factor_key: str,
                   locale: str | None, with_order: bool = False) -> ShopperLookup:
    """One shopper lookup, from the store's read to the order it found.

    *open_store* reads the store on the lookup's connection and raises when it is
    unknown or unavailable; *posted* is the (order number, verifier) typed, or None when
    the form was invalid. The store, the lookup and its bookkeeping share the limiter's
    connection (one checkout), and everything written commits there.
    """
    with limiter.connection() as conn:
        store = open_store(conn)
        if posted is None:
            return ShopperLookup(store)
        number, verifier = posted
        result = guarded_lookup(limiter, store, number, verifier, address, factor_key,
                                locale=locale, conn=conn)
        row = (shopper_order(conn, store.id, result.order.id)
               if with_order and result.order is not None else None)
    return ShopperLookup(store, result, row)
