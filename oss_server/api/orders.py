"""``GET``/``DELETE /api/v1/orders/<order_number>``, scoped to the key's store."""
from flask import jsonify

from ..errors import NotFound
from ..extensions import db
from ..schemas.orders import OrderOut
from ..services.orders import delete_order, get_order
from .auth import authenticated_store
from .blueprint import bp

_order_out = OrderOut()


@bp.get("/orders/<path:order_number>")
def read_order(order_number: str):
    """Return the stored snapshot of one order with its history."""
    store = authenticated_store()
    order = get_order(db.session, store, order_number)
    if order is None:
        raise NotFound("No such order in this store.")
    db.session.commit()  # persists the key's last-used time
    return jsonify(_order_out.dump(order))


@bp.delete("/orders/<path:order_number>")
def erase_order(order_number: str):
    """Erase one order and its history."""
    store = authenticated_store()
    if not delete_order(db.session, store, order_number):
        raise NotFound("No such order in this store.")
    db.session.commit()
    return "", 204
