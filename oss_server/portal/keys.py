"""API keys of a store: create (the full key shown once), list, rotate, revoke."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from ..extensions import db
from ..services import keys as key_service
from .blueprint import bp
from .forms import ActionForm, KeyForm
from .login import owned_store


def _grace_words(hours: int) -> str:
    if hours == 0:
        return "Stop the old key at once"
    if hours % 24 == 0:
        days = hours // 24
        return f"Keep the old key working for {days} day{'' if days == 1 else 's'}"
    return f"Keep the old key working for {hours} hour{'' if hours == 1 else 's'}"


class RotateKeyForm(FlaskForm):
    """How long the old key keeps working once its successor exists."""

    grace_hours = SelectField(
        "Grace period", coerce=int, default=24,
        choices=[SelectChoice(h, _grace_words(h)) for h in key_service.ROTATION_GRACE_HOURS],
        description="Time to put the new key in the order manager's settings.")


def _keys_page(store, form, **extra):
    return render_template("portal/keys.html", store=store, form=form, action_form=ActionForm(),
                           keys=key_service.list_keys(db.session, store),
                           key_state=key_service.key_state, **extra)


def _store_key(store, key_id):
    key = next((k for k in key_service.list_keys(db.session, store) if k.key_id == key_id), None)
    if key is None:
        abort(404)
    return key


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


@bp.route("/stores/<slug>/keys/<key_id>/revoke")
@login_required
def confirm_revoke_key(slug, key_id):
    """Ask before revoking: the order manager using the key stops sending at once."""
    store = owned_store(slug)
    return render_template("portal/key_revoke.html", store=store, key=_store_key(store, key_id),
                           action_form=ActionForm(), key_state=key_service.key_state)


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


@bp.route("/stores/<slug>/keys/<key_id>/rotate", methods=["GET", "POST"])
@login_required
def rotate_key(slug, key_id):
    """Replace a key in one step: the new key shown once, the old one revoked after a grace."""
    store = owned_store(slug)
    old = _store_key(store, key_id)
    form = RotateKeyForm()
    if key_service.key_state(old) == "revoked":
        abort(404)
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("portal/key_rotate.html", store=store, key=old, form=form), status
    grace = timedelta(hours=form.grace_hours.data)
    created = key_service.rotate_key(db.session, store, key_id, grace)
    if created is None:
        abort(404)
    db.session.commit()
    key, full_key = created
    # Rendered, not redirected: the full key must not travel in a URL or a session cookie.
    return _keys_page(store, KeyForm(formdata=None), new_key=full_key, new_key_id=key.key_id,
                      replaced=old)
