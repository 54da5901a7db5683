"""The portal blueprint and the rules every portal request follows."""
from __future__ import annotations

from flask import Blueprint, render_template

from ..errors import OSSError
from ..extensions import db
from ..security.origin import refuse_cross_origin_writes
from .login import enforce_time_limits, init_login, subscription_context

bp = Blueprint("portal", __name__, url_prefix="/account")
bp.record_once(lambda state: init_login(state.app))
bp.before_request(refuse_cross_origin_writes)
bp.before_request(enforce_time_limits)
bp.context_processor(subscription_context)


@bp.after_request
def _private(response):
    # Portal pages show account data and one-time secrets: no cache may keep them.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(OSSError)
def _domain_error(exc: OSSError):
    # Another merchant's store is a plain 404 page here, not the API's JSON envelope.
    db.session.rollback()
    return render_template("portal/error.html", status=exc.status, message=exc.message), exc.status
