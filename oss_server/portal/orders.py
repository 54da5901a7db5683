"""A store's orders as received: search, view, delete."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from ..extensions import db
from ..services import order_search
from ..services.carriers import link_for
from .blueprint import bp
from .forms import ActionForm
from .login import owned_store


@bp.route("/stores/<slug>/orders")
@login_required
def orders(slug):
    """Search the store's orders by order number, cart number or name."""
    store = owned_store(slug)
    query = request.args.get("q", "")
    found = order_search.search_orders(db.session, store, query,
                                       request.args.get("page", 1, type=int))
    return render_template("portal/orders.html", store=store, orders=found.orders,
                           results=found, query=query)


def _owned_order(store, order_id: int):
    order = order_search.get_order_by_id(db.session, store, order_id)
    if order is None:
        abort(404)
    return order


@bp.route("/stores/<slug>/orders/<int:order_id>")
@login_required
def order(slug, order_id):
    """Show everything received for one order; factors only as “on file”."""
    store = owned_store(slug)
    found = _owned_order(store, order_id)
    # The links shoppers get, so the merchant sees (and can check) the same ones.
    links = [link_for(t.number, t.carrier, store.carrier_rules) for t in found.tracking]
    return render_template("portal/order.html", store=store, order=found,
                           tracking=list(zip(found.tracking, links)),
                           factors=order_search.factors_on_file(found), action_form=ActionForm())


@bp.route("/stores/<slug>/orders/<int:order_id>/delete", methods=["POST"])
@login_required
def delete_order(slug, order_id):
    """Erase one order and its history."""
    store = owned_store(slug)
    found = _owned_order(store, order_id)
    number = found.order_number
    order_search.delete_order_by_id(db.session, store, found.id)
    db.session.commit()
    flash(f"Order {number} and its history have been erased.", "success")
    return redirect(url_for(".orders", slug=store.slug))
