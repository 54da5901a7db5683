"""``GET /api/v1/store``: which store a key belongs to, so a key can be checked first.

Unlike the other routes, a lapsed subscription still answers 200 with the state
``lapsed``: the key is right, and an integrator checking it learns what to fix (renew)
rather than a bare 402. ``seom-client check`` reports that state as a problem.
"""
from __future__ import annotations

from datetime import date

from flask import current_app, jsonify

from ..extensions import db
from ..schemas.store import StoreOut
from ..services.accounts import subscription_state
from .auth import authenticated_store
from .blueprint import bp

_store_out = StoreOut()


@bp.get("/store")
def read_store():
    """Return the key's store: slug, name and subscription state."""
    today = date.today()
    store = authenticated_store(today, allow_lapsed=True)
    state = subscription_state(store.merchant, today, current_app.config["OSS_GRACE_DAYS"])
    db.session.commit()  # persists the key's last-used time
    label = "lapsed" if state["lapsed"] else "grace" if state["in_grace"] else "active"
    return jsonify(_store_out.dump({
        "slug": store.slug, "name": store.name,
        "subscription": {"state": label, "paid_through": state["paid_through"]}}))
