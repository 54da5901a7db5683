"""``/healthz`` and ``/readyz``: liveness and readiness probes."""
from flask import current_app, jsonify
from sqlalchemy import text

from ..extensions import db
from .blueprint import bp


@bp.get("/healthz")
def healthz():
    """Answer while the process is alive."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Answer 200 when the database is reachable, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure to reach storage means "not ready"
        db.session.rollback()
        response = jsonify(status="unavailable", database="unreachable")
        response.status_code = 503
        response.headers["Retry-After"] = str(current_app.config["OSS_RETRY_AFTER_S"])
        return response
    return jsonify(status="ok", database="ok")

