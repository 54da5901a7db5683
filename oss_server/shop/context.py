"""What every shopper view needs: the store, its availability, the limiter, the client."""
from __future__ import annotations

import math
from datetime import date

from flask import abort, current_app, g, request
from flask_babel import ngettext
from sqlalchemy.engine import Connection

from ..extensions import db
from ..models.accounts import subscription_covers
from ..services.accounts import SLUG
from ..services.limits import LookupLimiter, build_limiter
from ..storage.connections import reading_engine
from ..storage.shop_pages import ShopStore, StorePage, shop_store, shop_store_page


class StoreUnavailable(Exception):
    """The store exists but its subscription has lapsed."""

    def __init__(self, store: ShopStore):
        super().__init__(store.slug)
        self.store = store


def find_store(slug: str, conn: Connection | None = None) -> ShopStore | None:
    """Return the shopper-facing settings of the store with *slug*, or None."""
    if not _possible(slug):
        return None
    if conn is not None:
        return shop_store(conn, slug)
    # A connection of its own: pages that only read never start an ORM session.
    with read_connection() as conn:
        return shop_store(conn, slug)


def _possible(slug: str) -> bool:
    # No store can have another slug (stores are created through the same rule), and a
    # value like a NUL byte would reach the driver, which PostgreSQL refuses.
    return bool(SLUG.match(slug))


def read_connection() -> Connection:
    """A connection for pages that only read, in autocommit mode.

    Without a transaction there is no BEGIN before the first read and no ROLLBACK when
    the connection goes back to the pool: on PostgreSQL two round trips of a page's four.
    Nothing is lost by it: under READ COMMITTED each statement reads its own snapshot
    anyway, and SQLite's driver starts no transaction for a SELECT either.
    """
    engine = current_app.extensions.get("oss_read_engine")
    if engine is None:
        engine = current_app.extensions["oss_read_engine"] = reading_engine(db.engine)
    return engine.connect()


def is_available(store: ShopStore) -> bool:
    """Tell whether the store's subscription (with grace) covers today."""
    # The one rule (models.accounts), on the row the shopper pages read.
    return subscription_covers(store.paid_through, date.today(),
                               current_app.config["OSS_GRACE_DAYS"])


def open_store(slug: str, conn: Connection | None = None) -> ShopStore:
    """Return the store for a shopper page: 404 if unknown, unavailable if lapsed."""
    return _opened(find_store(slug, conn))


def open_store_page(slug: str, order_id: int, conn: Connection) -> StorePage:
    """:func:`open_store`, with the row and version of its order *order_id* (None if not its)."""
    found = shop_store_page(conn, slug, order_id) if _possible(slug) else None
    if found is None:
        abort(404)
    _opened(found.store)
    return found


def _opened(store: ShopStore | None) -> ShopStore:
    if store is None:
        abort(404)
    g.shop_store = store
    if not is_available(store):
        raise StoreUnavailable(store)
    return store


def lookup_limiter() -> LookupLimiter:
    """Return this app's lookup limiter, built once from its configuration."""
    limiter = current_app.extensions.get("oss_lookup_limiter")
    if limiter is None:
        limiter = build_limiter(current_app.config, db.engine)
        current_app.extensions["oss_lookup_limiter"] = limiter
    return limiter


def client_address() -> str | None:
    """The client's address (``OSS_PROXY_FIX`` decides which proxies are trusted)."""
    return request.remote_addr


def wait_sentence(seconds: int) -> str:
    """A plain sentence telling the shopper how long to wait."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes <= 90:
        return ngettext("Too many attempts. Please wait %(num)d minute and try again.",
                        "Too many attempts. Please wait %(num)d minutes and try again.", minutes)
    hours = math.ceil(minutes / 60)
    return ngettext("Too many attempts. Please wait %(num)d hour and try again.",
                    "Too many attempts. Please wait %(num)d hours and try again.", hours)
