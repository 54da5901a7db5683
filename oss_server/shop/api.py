"""``POST /api/v1/lookup``: the shopper lookup as JSON, for a cart's own tracking page.

Same rules and limits as the form. No cookies, so no CSRF; CORS is granted only to the
origins the store allows.
"""
from __future__ import annotations

import json
from functools import partial

from flask import current_app, g, jsonify, request, url_for
from flask_babel import get_locale
from marshmallow import ValidationError
from sqlalchemy import String, cast, select

from ..api.jsonbody import parse_body, read_raw_body
from ..api.openapi import EXTRA_PATHS
from ..config import secret_key
from ..errors import BadRequest, NotFound, OSSError, RateLimited
from ..extensions import db
from ..models import Store
from ..schemas.shopper import LookupIn, LookupOut
from ..services.lookup import shopper_lookup
from ..services.shopper import order_view, store_view
from ..services.tokens import make_status_token
from .blueprint import api_bp as bp
from .context import client_address, find_store, is_available, lookup_limiter, wait_sentence

MAX_BODY = 4096
_lookup_in, _lookup_out = LookupIn(), LookupOut()


class NoMatch(OSSError):
    status, code = 404, "no_match"
    message = ("No order matches that order number and billing ZIP/postal code, email or "
               "phone.")


class SubscriptionLapsed(OSSError):
    status, code = 402, "subscription_expired"
    message = "Order status is not available for this store at the moment."


# No automatic OPTIONS: the preflight below must answer it, not Flask's default.
@bp.post("/lookup", provide_automatic_options=False)
def lookup():
    """Look an order up for a shopper; the same view the status page shows."""
    data = _read_body()
    found = shopper_lookup(lookup_limiter(), partial(_open_store, data["store"]),
                           (data["order_number"], data["verifier"]), client_address(),
                           current_app.config["OSS_FACTOR_KEY"], str(get_locale()),
                           with_order=True)
    store, result = found.store, found.result
    assert result is not None  # a valid body is always looked up
    if result.retry_after:
        raise RateLimited(wait_sentence(result.retry_after), retry_after=result.retry_after)
    # The row is None too when the order was erased between the lookup and its read.
    order = found.order_row
    if result.order is None or order is None:
        raise NoMatch()
    token = make_status_token(secret_key(current_app.config), store.id, result.order.id)
    response = jsonify(_lookup_out.dump({
        "store": store_view(store),
        # Labels in the shopper's language (?lang=, the cookie or Accept-Language).
        "order": order_view(store, order, str(get_locale())),
        "status_url": url_for("shop.status", slug=store.slug, token=token, _external=True)}))
    response.headers["Cache-Control"] = "no-store"
    return response


def _open_store(slug: str, conn):
    """The store of a JSON lookup: 404 when unknown, 402 when its subscription lapsed."""
    store = find_store(slug, conn)
    if store is None:
        raise NotFound("No such store.")
    g.shop_store = store
    if not is_available(store):
        raise SubscriptionLapsed()
    return store


@bp.route("/lookup", methods=["OPTIONS"], provide_automatic_options=False)
def lookup_preflight():
    """Answer a CORS preflight: the body (and so the store) is not known yet."""
    origin = request.headers.get("Origin")
    response = current_app.response_class(status=204)
    if origin and _origin_allowed_anywhere(origin):
        _allow(response, origin)
        response.headers["Access-Control-Allow-Methods"] = "POST"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
    response.headers["Vary"] = "Origin"
    return response


@bp.after_request
def cors_for_store(response):
    # The real answer, errors included, is readable only by the looked-up store's origins.
    origin = request.headers.get("Origin")
    store = g.get("shop_store")
    if request.method == "POST" and origin and store and origin in (store.allowed_origins or []):
        _allow(response, origin)
    if request.method == "POST":
        response.vary.add("Origin")
    return response


def _allow(response, origin: str) -> None:
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = "Retry-After"


def _origin_allowed_anywhere(origin: str) -> bool:
    # A text search narrows the stores; the exact list membership is checked in Python.
    needle = json.dumps(origin)
    rows = db.session.scalars(select(Store.allowed_origins).where(
        cast(Store.allowed_origins, String).contains(needle, autoescape=True)).limit(50))
    return any(origin in (origins or []) for origins in rows)


def _read_body() -> dict:
    body = parse_body(read_raw_body(MAX_BODY))
    fields = "body"  # JSON, but not an object
    if isinstance(body, dict):
        try:
            return _lookup_in.load(body)
        except ValidationError as exc:
            fields = ", ".join(sorted(str(k) for k in exc.messages_dict))
    raise BadRequest(f"Send store, order_number and verifier as strings (check: {fields}).")


def add_lookup_path(spec) -> None:
    """Describe ``POST /api/v1/lookup`` in the OpenAPI document."""
    spec.components.schema("LookupRequest", schema=LookupIn)
    spec.components.schema("LookupResult", schema=LookupOut)
    error = {"content": {"application/json": {"schema": "Error"}}}
    spec.path(path="/api/v1/lookup", operations={"post": {
        "summary": "Look an order up as a shopper (order number plus ZIP/postal code, email or "
                   "phone); CORS for the store's allowed origins",
        "requestBody": {"required": True,
                        "content": {"application/json": {"schema": "LookupRequest"}}},
        "responses": {
            "200": {"description": "The shopper's view of the order",
                    "content": {"application/json": {"schema": "LookupResult"}}},
            "400": {"description": "Malformed body or unknown fields", **error},
            "402": {"description": "The store's subscription has lapsed", **error},
            "404": {"description": "Unknown store, or no matching order (one message for "
                                   "both an unknown order and a wrong verifier)", **error},
            "413": {"description": "Body too large", **error},
            "415": {"description": "Not JSON", **error},
            "429": {"description": "Too many failed lookups (see Retry-After)", **error},
        },
    }, "options": {"summary": "CORS preflight",
                   "responses": {"204": {"description": "Preflight"}}}})


if add_lookup_path not in EXTRA_PATHS:
    EXTRA_PATHS.append(add_lookup_path)
