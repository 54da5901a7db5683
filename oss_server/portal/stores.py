"""Stores: the dashboards, creating, editing, deleting and signing secrets."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import login_required
from sqlalchemy import select

from ..extensions import db
from ..models import Store
from ..services import accounts, store_admin
from ..services import dashboard as dashboard_service
from .blueprint import bp
from .forms import ActionForm, EditStoreForm, StoreForm
from .login import current_merchant, owned_store

_SETTINGS = [name for name in accounts.STORE_SETTINGS]


def _form_values(form: StoreForm) -> dict:
    values = {name: getattr(form, name).data for name in _SETTINGS if name != "name"}
    values["allowed_origins"] = values["allowed_origins"] or ""
    return values


def _show_errors(form: StoreForm, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        getattr(form, name).errors.append(message)


@bp.route("/")
@login_required
def dashboard():
    """List the merchant's stores, each with its health at a glance."""
    stores = db.session.scalars(select(Store).where(Store.merchant_id == current_merchant().id)
                                .order_by(Store.name, Store.id)).all()
    health = dashboard_service.merchant_health(db.session, list(stores),
                                               current_app.config["OSS_GRACE_DAYS"])
    return render_template("portal/dashboard.html", stores=stores, health=health,
                           since_words=dashboard_service.since_words)


@bp.route("/stores/<slug>/dashboard")
@login_required
def store_dashboard(slug):
    """Answer "is my integration healthy?" for one store."""
    store = owned_store(slug)
    health = dashboard_service.store_health(db.session, store,
                                            current_app.config["OSS_GRACE_DAYS"])
    return render_template("portal/store_dashboard.html", store=store, health=health,
                           since_words=dashboard_service.since_words)


@bp.route("/stores/new", methods=["GET", "POST"])
@login_required
def new_store():
    """Create a store with its settings."""
    form = StoreForm(data={"retention_days": 180, "allow_zip": True, "allow_email": True,
                           "allow_phone": True})
    if form.validate_on_submit():
        try:
            store = accounts.create_store(db.session, current_merchant(), form.slug.data.strip(),
                                          form.name.data)
            errors = store_admin.apply_settings(db.session, store, _form_values(form))
        except accounts.AccountError as exc:
            errors = {"slug": exc.message}
        if not errors:
            db.session.commit()
            flash(f"Store “{store.name}” created. Next, create an API key.", "success")
            return redirect(url_for(".keys", slug=store.slug))
        db.session.rollback()
        _show_errors(form, errors)
    return render_template("portal/store_form.html", form=form, store=None)


@bp.route("/stores/<slug>", methods=["GET", "POST"])
@login_required
def edit_store(slug):
    """Show and change a store's settings."""
    store = owned_store(slug)
    settings = accounts.store_settings(store)
    settings["allowed_origins"] = "\n".join(settings["allowed_origins"] or [])
    settings["carrier_rules"] = (accounts.carrier_rules_json(store.carrier_rules, indent=2)
                                 if store.carrier_rules else "")
    form = EditStoreForm(data={**settings, "slug": store.slug})
    if form.validate_on_submit():
        values = {"name": form.name.data, **_form_values(form)}
        errors = store_admin.apply_settings(db.session, store, values)
        if not errors:
            db.session.commit()
            flash("Settings saved.", "success")
            return redirect(url_for(".edit_store", slug=store.slug))
        db.session.rollback()
        _show_errors(form, errors)
    return render_template("portal/store_form.html", form=form, store=store,
                           action_form=ActionForm(), hint=store_admin.signing_secret_hint,
                           stored_problems=store_admin.stored_problems(store))


@bp.route("/stores/<slug>/delete", methods=["POST"])
@login_required
def delete_store(slug):
    """Erase a store with its keys, orders and activity."""
    store = owned_store(slug)
    accounts.delete_store(db.session, store)
    db.session.commit()
    flash(f"Store “{store.name}” and all its data have been erased.", "success")
    return redirect(url_for(".dashboard"))


@bp.route("/stores/<slug>/signing-secret", methods=["POST"])
@login_required
def rotate_signing_secret(slug):
    """Create a new signing secret, shown once; the previous one keeps working meanwhile."""
    store = owned_store(slug)
    secret = store_admin.rotate_signing_secret(db.session, store)
    db.session.commit()
    return render_template("portal/secret_created.html", store=store, secret=secret)


@bp.route("/stores/<slug>/signing-secret/retire", methods=["POST"])
@login_required
def retire_signing_secrets(slug):
    """Stop accepting the previous signing secret."""
    store = owned_store(slug)
    store_admin.retire_previous_secrets(db.session, store)
    db.session.commit()
    flash("Only the newest signing secret is accepted now.", "success")
    return redirect(url_for(".edit_store", slug=store.slug))
