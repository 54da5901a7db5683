"""Translations and local formats for the shopper templates, resolved once per request.

Flask-Babel's template helpers look the request's locale and catalogue up again on every
call; a status page makes dozens of them. The shopper templates get callables bound to
this request's catalogue instead, and formatting filters memoised per locale (a date,
a moment in a store's zone or a quantity always reads the same in one language).

The callables behave as Jinja's new-style gettext: the translation is trusted markup and
``%(name)s`` arguments are escaped.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo
from functools import lru_cache
from urllib.parse import quote, urlencode

from babel import dates, numbers
from flask import request, url_for
from flask_babel import get_translations
from jinja2 import pass_context
from markupsafe import Markup

from ..languages import LANGUAGE_NAMES
from ..services.local_time import format_when as shop_when

# The language switcher's links, in the list's order.
_LANGUAGE_QUERIES = [(code, name, urlencode({"lang": code})) for code, name in LANGUAGE_NAMES]


def template_gettext() -> dict:
    """Return ``_``, ``gettext`` and ``ngettext`` bound to this request's catalogue."""
    translations = get_translations()

    def gettext(message: str, **variables) -> Markup:
        if variables:
            return Markup(translations.gettext(message)) % variables
        return _plain(translations, message)

    def ngettext(singular: str, plural: str, num: int, **variables) -> Markup:
        variables.setdefault("num", num)
        return Markup(translations.ngettext(singular, plural, num)) % variables

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


@lru_cache(maxsize=4096)
def _plain(translations, message: str) -> Markup:
    # A catalogue never changes while the process runs: a fixed phrase is looked up and
    # formatted (``%%`` becomes ``%``, as new-style gettext always formats) once.
    return Markup(translations.gettext(message)) % {}


@lru_cache(maxsize=4096)
def local_date(day: date, width: str, locale: str) -> str:
    """*day* as written in *locale* (``short``, ``medium``, ``long`` or ``full``)."""
    return dates.format_date(day, width, locale=locale)


@lru_cache(maxsize=1024)
def local_number(number: int, locale: str) -> str:
    """A quantity as written in *locale*."""
    return numbers.format_decimal(number, locale=locale)


def shop_date(value: date, width: str, locale: str) -> str:
    """A date without a time (a ship date) in *locale*, never converted to another zone."""
    # Moments (updated, history) go through shop_when, in the store's time zone.
    return local_date(value.date() if isinstance(value, datetime) else value, width, locale)


@pass_context
def day_filter(context, value: date, width: str = "medium") -> str:
    """``{{ value|shop_date('long') }}``: a date in the page's language."""
    return shop_date(value, width, context.get("page_lang", "en"))


@pass_context
def number_filter(context, value: int) -> str:
    """``{{ value|shop_number }}``: a quantity in the page's language."""
    return local_number(value, context.get("page_lang", "en"))


@pass_context
def when_filter(context, value: datetime, zone: tzinfo) -> str:
    """``{{ value|shop_when(zone) }}``: date, time and zone name in the page's language."""
    return shop_when(value, zone, context.get("page_lang", "en"))


FILTERS: dict[str, Callable[..., str]] = {
    "shop_date": day_filter, "shop_number": number_filter, "shop_when": when_filter}


def filters_for(locale: str) -> dict:
    """The same filters for templates compiled for one language: no context lookup."""
    return {"shop_date": lambda value, width="medium": shop_date(value, width, locale),
            "shop_number": lambda value: local_number(value, locale),
            "shop_when": lambda value, zone: shop_when(value, zone, locale)}


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
