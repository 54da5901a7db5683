"""API keys of a store: create (the full key shown once), list, revoke."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import login_required

from ..extensions import db
from ..services import keys as key_service
from .blueprint import bp
from .forms import ActionForm, KeyForm
from .session import owned_store


def _keys_page(store, form, **extra):
    return render_template("portal/keys.html", store=store, form=form, action_form=ActionForm(),
                           keys=key_service.list_keys(db.session, store), **extra)


@bp.route("/stores/<slug>/keys")
@login_required
def keys(slug):
    """List the store's keys by id, label, created and last used."""
    return _keys_page(owned_store(slug), KeyForm())


@bp.route("/stores/<slug>/keys", methods=["POST"])
@login_required
def create_key(slug):
    """Create a key and show it this once; only a hash of its secret is kept."""
    store = owned_store(slug)
    form = KeyForm()
    if not form.validate_on_submit():
        return _keys_page(store, form), 400
    key, full_key = key_service.create_api_key(db.session, store, form.label.data)
    db.session.commit()
    # Rendered, not redirected: the full key must not travel in a URL or a session cookie.
    return _keys_page(store, KeyForm(formdata=None), new_key=full_key, new_key_id=key.key_id)


@bp.route("/stores/<slug>/keys/<key_id>/revoke", methods=["POST"])
@login_required
def revoke_key(slug, key_id):
    """Revoke a key; the API refuses it from the next request on."""
    store = owned_store(slug)
    if key_service.revoke_key(db.session, store, key_id) is None:
        abort(404)
    db.session.commit()
    flash(f"Key {key_id} is revoked.", "success")
    return redirect(url_for(".keys", slug=store.slug))
