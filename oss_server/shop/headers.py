"""Headers, language and error pages shared by every shopper page."""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote, urlencode

from flask import g, make_response, request, url_for
from flask_babel import get_locale, refresh
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from ..security.urls import (host_source, local_http_allowed, mailto_href, origin_source,
                             safe_url, support_href, tel_href)
from ..services.shopper_reads import ShopStore
from . import bp
from .context import StoreUnavailable, find_store, is_available
from .i18n import FILTERS, template_gettext
from .pages import no_store, render_form
from .rendering import FORMAT_NAME, render_shop, translated_format

LANGUAGES = [("en", "English"), ("es", "Español"), ("fr", "Français"), ("de", "Deutsch")]
_LANGUAGE_QUERIES = [(code, name, urlencode({"lang": code})) for code, name in LANGUAGES]


def store_csp(store: ShopStore | None) -> str:
    """CSP of a store's pages: no inline code; framing only by the store's own origins.

    Only host sources re-built by :mod:`..security.urls` go in (``scheme://host[:port]``):
    a stored value that would not pass today adds nothing, so no setting can add a
    directive or a source of its own.
    """
    if store is None:
        return _csp(None, (), False)
    return _csp(store.logo_url, tuple(store.allowed_origins or ()), local_http_allowed())


@lru_cache(maxsize=1024)
def _csp(logo_url: str | None, allowed_origins: tuple, _local_http: bool) -> str:
    # Every shopper response sends it; a store's settings give the same header each time
    # (the address rules also depend on whether local http is allowed: part of the key).
    origins = (origin_source(o) for o in allowed_origins)
    frame = " ".join(o for o in origins if o) or "'none'"
    logo = host_source(logo_url)
    images = f"'self' {logo}" if logo else "'self'"
    return (f"default-src 'self'; script-src 'self'; img-src {images}; object-src 'none'; "
            f"base-uri 'none'; form-action 'self'; frame-ancestors {frame}")


@bp.before_request
def fresh_request_state():
    # g belongs to the app context, which a request shares when one is already pushed
    # (tests, embedded servers): start each request without the last one's store/locale.
    g.pop("shop_store", None)
    refresh()


@bp.after_request
def shopper_headers(response):
    # Runs before the app-wide hook, whose setdefault keeps this per-store policy.
    response.headers["Content-Security-Policy"] = store_csp(g.get("shop_store"))
    lang = request.args.get("lang")
    if lang in dict(LANGUAGES):
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
for _filter in (safe_url, support_href, mailto_href, tel_href):
    bp.add_app_template_filter(_filter)
bp.add_app_template_global(translated_format, FORMAT_NAME)


def language_links() -> list[tuple[str, str, str]]:
    """Return ``(code, name, url)`` per language: this page in that language.

    A POST result links back to the form instead. Every page shows the switcher, so the
    links are built here, from one URL, rather than by a call per link. A GET page's own
    URL is the path it was requested at: it matched a route, so it is that route's URL.
    """
    view_args = request.view_args or {}
    if request.method == "GET" and request.endpoint:
        base = quote(request.script_root + request.path)
    else:
        base = url_for("shop.form", slug=view_args.get("slug"))
    return [(code, name, f"{base}?{query}") for code, name, query in _LANGUAGE_QUERIES]


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
