"""The shopper blueprints and the rules every shopper request follows.

``bp`` serves the pages under ``/s/<slug>``; ``api_bp`` the JSON lookup at
``/api/v1/lookup`` for a cart's own tracking page (its routes are in :mod:`.api`).
"""
from __future__ import annotations

from flask import Blueprint, g, make_response, request
from flask_babel import get_locale, refresh
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from ..languages import LANGUAGES
from ..security.urls import mailto_href, safe_url, support_href, tel_href
from .context import StoreUnavailable, find_store, is_available
from .csp import store_csp
from .i18n import FILTERS, language_links, template_gettext
from .pages import no_store, render_form
from .rendering import FORMAT_NAME, render_shop, translated_format

bp = Blueprint("shop", __name__, url_prefix="/s/<slug>")
api_bp = Blueprint("shop_api", __name__, url_prefix="/api/v1")


def fresh_request_state() -> None:
    """Start each shopper request without the last one's store and locale."""
    # g belongs to the app context, which a request shares when one is already pushed
    # (tests, embedded servers).
    g.pop("shop_store", None)
    refresh()


bp.before_request(fresh_request_state)
api_bp.before_request(fresh_request_state)


@bp.after_request
def shopper_headers(response):
    # Runs before the app-wide hook, whose setdefault keeps this per-store policy.
    response.headers["Content-Security-Policy"] = store_csp(g.get("shop_store"))
    lang = request.args.get("lang")
    if lang in LANGUAGES:
        response.set_cookie("lang", lang, max_age=365 * 86400, httponly=True,
                            samesite="Lax", secure=request.is_secure)
    return response


@bp.context_processor
def shop_context():
    return {"page_lang": str(get_locale() or "en"), "language_links": language_links(),
            **template_gettext()}


for _name, _filter in FILTERS.items():
    bp.add_app_template_filter(_filter, _name)
# Every href/src a page builds from a store's settings passes one of these.
for _href_filter in (safe_url, support_href, mailto_href, tel_href):
    bp.add_app_template_filter(_href_filter)
bp.add_app_template_global(translated_format, FORMAT_NAME)


@bp.errorhandler(404)
def store_not_found(_exc):
    return no_store(make_response(render_shop("shop/not_found.html"), 404), index=False)


@bp.errorhandler(StoreUnavailable)
def store_unavailable(exc: StoreUnavailable):
    # A lapsed subscription is the store's business, not an error on the shopper's side.
    return no_store(make_response(render_shop("shop/unavailable.html", store=exc.store)),
                    index=False)


@bp.errorhandler(CSRFError)
def csrf_failed(_exc):
    # Raised before the view ran, so the store is looked up here.
    store = find_store((request.view_args or {}).get("slug", ""))
    if store is None:
        return store_not_found(None)
    g.shop_store = store
    if not is_available(store):
        return store_unavailable(StoreUnavailable(store))
    return render_form(store, message=_("This page had expired. Please try again."), status=400)
