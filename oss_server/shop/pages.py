"""Rendering helpers shared by the views and the error handlers."""
from __future__ import annotations

from flask import make_response

from ..storage.shop_pages import ShopStore
from .forms import LookupForm
from .rendering import render_shop


def no_store(response, index: bool = True):
    """Mark a response as private to this shopper: never cached, optionally never indexed."""
    response.headers["Cache-Control"] = "no-store"
    if not index:
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def render_form(store: ShopStore, form: LookupForm | None = None, message: str | None = None,
                status: int = 200):
    """The lookup form; *message* is the one generic failure (or limit) sentence.

    Only the order number is echoed back: the verifier is a secret factor and never
    appears in a page.
    """
    form = form or LookupForm()
    html = render_shop("shop/form.html", store=store, form=form, message=message)
    return no_store(make_response(html, status))
