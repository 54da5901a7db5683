"""API-key authentication: the Authorization header is the only credential."""
from __future__ import annotations

from datetime import date

from flask import current_app, g, request
from sqlalchemy.exc import SQLAlchemyError

from ..errors import BadRequest, InvalidApiKey, SubscriptionExpired
from ..extensions import db
from ..models import Store
from ..services import keys, refusals

_QUERY_CREDENTIALS = {"api_key", "apikey", "key", "token", "access_token"}


def bearer_token() -> str | None:
    """Return the bearer token of the request, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def key_id_for_limits() -> str:
    """Rate-limit key: the API key's id once the key authenticated, else the client address.

    A key id alone proves nothing (the portal lists it; it is not a secret): keyed by
    it before the secret is checked, anyone who knew it could spend the store's quota with
    junk secrets. Requests whose key fails count against their address instead.
    """
    token = bearer_token()
    try:
        key = _checked_key(token)[0] if token else None
    except SQLAlchemyError:
        # The database is unreachable: the view's own check answers 503 with Retry-After.
        # Raised here, Flask-Limiter would take it for its storage failing.
        db.session.rollback()
        key = None
    return f"key:{key.key_id}" if key is not None else f"ip:{request.remote_addr}"


def _checked_key(token: str) -> tuple:
    """:func:`keys.check_key` for this request's token, run once (the rate limit asks first)."""
    # Kept with the request itself: an app context (``g``) may outlive one request.
    cached = request.environ.get("oss.api_key_check")
    if cached is None or cached[0] != token:
        cached = request.environ["oss.api_key_check"] = (token, keys.check_key(db.session, token))
    return cached[1]


def authenticated_store(today: date | None = None, *, allow_lapsed: bool = False) -> Store:
    """Return the store of the request's API key; 401 or 402 otherwise.

    ``allow_lapsed`` lets a route that only describes the store answer a lapsed one.
    """
    if _QUERY_CREDENTIALS & {k.lower() for k in request.args}:
        # Keys in URLs end up in logs and browser history: refuse them outright.
        raise BadRequest("Send the API key in the Authorization header, never in the URL.")
    token = bearer_token()
    key, known, cause = _checked_key(token) if token else (None, None, None)
    if key is None:
        if known is not None:
            count_refused(known.store_id, cause, known.key_id)
        raise InvalidApiKey()
    store = key.store
    today = today or date.today()
    if not allow_lapsed and not store.merchant.subscription_active(
            today, current_app.config["OSS_GRACE_DAYS"]):
        count_refused(store.id, "subscription_expired", key.key_id)
        raise SubscriptionExpired(store)
    g.api_store = store
    return store


def count_refused(store_id: int, cause: str, key_id: str = "") -> None:
    """Tally a refused request for the store's dashboard, on a commit of its own.

    Committed at once: the error handler rolls the request's transaction back.
    """
    refusals.count_refusal(db.session, store_id, cause, key_id)
    db.session.commit()
