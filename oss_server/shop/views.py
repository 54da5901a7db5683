"""Shopper views: the lookup form, the lookup itself and the order status page."""
from __future__ import annotations

from functools import partial

from flask import abort, current_app, flash, make_response, redirect, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from ..config import secret_key
from ..services.local_time import store_zone
from ..services.lookup import shopper_lookup
from ..services.progress import tracker
from ..services.shopper import order_view, store_view
from ..services.tokens import TokenError, make_status_token, read_status_token
from ..storage.shop_pages import StorePage, order_with_lines
from .blueprint import bp
from .context import (
    client_address,
    find_store,
    lookup_limiter,
    open_store,
    open_store_page,
    read_connection,
    wait_sentence,
)
from .forms import PostedLookup, read_lookup
from .page_cache import PageCache
from .pages import no_store, render_form
from .rendering import render_shop
from .theme import theme_css


def failure_message() -> str:
    """The one message for every failed lookup, whatever the cause."""
    return _("We could not find an order with that order number and billing ZIP/postal code, "
             "email or phone. Please check both and try again.")


@bp.get("/")
def form(slug: str):
    """Show the lookup form."""
    return render_form(open_store(slug))


@bp.post("/lookup")
def lookup(slug: str):
    """Look an order up; on a match, 303 to its status page."""
    posted = read_lookup()
    if isinstance(posted, PostedLookup):
        typed, invalid = (posted.order_number, posted.verifier), None
    else:
        typed, invalid = None, posted  # the form, with the errors it shows
    found = shopper_lookup(lookup_limiter(), partial(open_store, slug), typed,
                           client_address(), current_app.config["OSS_FACTOR_KEY"],
                           str(get_locale()))
    store, result = found.store, found.result
    if result is None:
        return render_form(store, invalid, status=400)
    if result.retry_after:
        response = render_form(store, message=wait_sentence(result.retry_after), status=429)
        response.headers["Retry-After"] = str(result.retry_after)
        return response
    if result.order is None:
        return render_form(store, message=failure_message())
    token = make_status_token(secret_key(current_app.config), store.id, result.order.id)
    return redirect(url_for(".status", slug=slug, token=token), 303)


@bp.get("/o/<token>")
def status(slug: str, token: str):
    """Show an order's status to whoever holds its signed link."""
    try:
        store_id, order_id = read_status_token(secret_key(current_app.config), token,
                                               current_app.config["OSS_STATUS_TOKEN_DAYS"])
    except TokenError as exc:
        open_store(slug)  # an unknown store is a 404, a lapsed one says so, whatever the link
        return _back_to_form(slug, expired=exc.expired)
    with read_connection() as conn:
        # One query for the store and the order's row and version, then the page from the
        # cache or, on a miss, the order's lines.
        page = open_store_page(slug, order_id, conn)
        # A token of another store names no order here.
        html = _status_html(conn, page) if store_id == page.store.id else None
    if html is None:
        return _back_to_form(slug, expired=False)
    return no_store(make_response(html), index=False)


def _status_html(conn, page: StorePage) -> str | None:
    """The rendered page of the store's order; None when the page found no order."""
    row = page.order
    if row is None:
        return None
    # Keyed by what the page is made of (see page_cache): the store's settings as just
    # read and the order's version, so it is never stale; a hit reads one row, not four.
    pages = _page_cache()
    flashing = "_flashes" in session
    store, locale = page.store, str(get_locale())
    # The store row holds its label wording and time zone; the standard wording is fixed.
    key = PageCache.key(store, row.id, page.version, locale,
                        request.script_root, request.path)
    html = None if flashing else pages.get(key)
    if html is None:
        order = order_view(store, order_with_lines(conn, row), locale)
        html = render_shop("shop/status.html", store=store_view(store), order=order,
                           zone=store_zone(store.timezone), steps=tracker(order["stage"], locale))
        if not flashing:
            pages.put(key, html)
    return html


def _page_cache() -> PageCache:
    pages = current_app.extensions.get("oss_page_cache")
    if pages is None:
        pages = PageCache(current_app.config["OSS_PAGE_CACHE_SIZE"])
        current_app.extensions["oss_page_cache"] = pages
    return pages


def _back_to_form(slug: str, expired: bool):
    flash(_("This order status link has expired. Please look your order up again.") if expired
          else _("This order status link is not valid. Please look your order up again."), "error")
    return no_store(redirect(url_for(".form", slug=slug), 303), index=False)


@bp.get("/theme.css")
def theme(slug: str):
    """The store's colours as a stylesheet (inline styles are barred by the CSP)."""
    # Served for a lapsed store too: its "unavailable" page is still in the store's colours.
    store = find_store(slug)
    if store is None:
        abort(404)
    response = make_response(theme_css(store.accent_color))
    response.headers["Content-Type"] = "text/css; charset=utf-8"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
