"""``POST /api/v1/updates``: receive a batch of status updates."""
from __future__ import annotations

from flask import current_app, jsonify, request

from ..errors import BadRequest, InvalidSignature, OSSError, PayloadTooLarge, SubscriptionExpired
from ..extensions import db, limiter
from ..ops.metrics import count_updates
from ..security import signatures
from ..services import activity_log, refusals
from ..services.email_outbox import StatusLinks
from ..services.updates import apply_updates
from .auth import authenticated_store, key_id_for_limits
from .blueprint import bp
from .jsonbody import parse_body, read_raw_body


def _api_limit() -> str:
    return current_app.config["OSS_API_RATE_LIMIT"]


def read_updates(body: object) -> list:
    """Return the ``updates`` list of an envelope; 400/413 when malformed or too large."""
    if (not isinstance(body, dict) or set(body) != {"updates"}
            or not isinstance(body["updates"], list)):
        raise BadRequest('The body must be {"updates": [UPDATE, …]} and nothing else.')
    updates = body["updates"]
    if not updates:
        raise BadRequest("Send at least one update.")
    limit = current_app.config["OSS_MAX_BATCH"]
    if len(updates) > limit:
        raise PayloadTooLarge(f"At most {limit} updates per request.")
    return updates


@bp.post("/updates")
@limiter.limit(_api_limit, key_func=key_id_for_limits)
def post_updates():
    """Receive a batch of status updates; one outcome per update, in request order."""
    try:
        store = authenticated_store()
    except SubscriptionExpired as exc:
        # A known key of a lapsed store: its merchant sees in Activity why nothing shows.
        _note_refused(exc.store, exc)
        raise
    try:
        updates = _read_batch(store)
    except OSSError as exc:
        _note_refused(store, exc)
        raise
    factor_key = current_app.config["OSS_FACTOR_KEY"]
    links = StatusLinks.from_config(current_app.config)
    # A batch that loses a race to another worker is redone inside apply_updates.
    batch = apply_updates(db.session, store, updates, factor_key=factor_key, links=links)
    db.session.commit()
    count_updates(batch.results)
    return jsonify(results=[_public(r) for r in batch.results])


def _note_refused(store, exc: OSSError) -> None:
    # Kept on a commit of its own: the error handler rolls the request back.
    db.session.rollback()
    activity_log.record_refused(db.session, store, exc.code, exc.message)
    if isinstance(exc, InvalidSignature):
        refusals.count_refusal(db.session, store.id, exc.code)
    db.session.commit()


def _read_batch(store) -> list:
    raw = read_raw_body()
    # The signature covers the raw bytes and is checked before the parser sees them: an
    # unsigned body is refused whatever it holds.
    if store.require_signature and not signatures.verify(
            request.headers.get("OSS-Signature"), raw, store.signing_secrets):
        raise InvalidSignature()
    return read_updates(parse_body(raw))


def _public(result: dict) -> dict:
    if result["result"] != "rejected":
        return {"update_id": result["update_id"], "result": result["result"]}
    return result
