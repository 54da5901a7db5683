"""Labels: how each status label reads to shoppers in each language, its stage, or hide it."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import login_required

from ..extensions import db
from ..services import label_usage, standard_labels
from ..services import labels as label_service
from .blueprint import bp
from .forms import LabelForm
from .login import owned_store


def _rows(store):
    rows = []
    for use in label_usage.label_uses(db.session, store):
        label = use.label
        entry = (store.label_map or {}).get(label) or {}
        rows.append({"label": label, "count": use.orders, "item_orders": use.item_orders,
                     "received": use.received,
                     "text": entry.get("text"),
                     "hidden": bool(entry.get("hidden")), **_wording(store, label, entry)})
    return rows


def _wording(store, label: str, entry: dict) -> dict:
    """The label's wording per language and its stage, as set and as shoppers read them."""
    stage = label_service.label_stage(store, label)
    return {"texts": entry.get("texts") or {}, "stage": entry.get("stage") or "",
            "stage_name": standard_labels.STAGE_NAMES[stage]["en"],
            "default_stage": standard_labels.STAGE_NAMES[
                standard_labels.standard_stage(label)]["en"],
            "standard": {lang: standard_labels.standard_wording(label, lang)
                         for lang in standard_labels.LANGUAGES[1:]},
            "shown": label_service.label_text(store, label)}


@bp.route("/stores/<slug>/labels")
@login_required
def labels(slug):
    """List every label received with its wording for shoppers."""
    store = owned_store(slug)
    stages = [("", "")] + [(stage, names["en"])
                           for stage, names in standard_labels.STAGE_NAMES.items()]
    return render_template("portal/labels.html", store=store, rows=_rows(store),
                           form=LabelForm(), stage_choices=stages)


@bp.route("/stores/<slug>/labels", methods=["POST"])
@login_required
def edit_label(slug):
    """Rename or hide one label; status pages use the new wording at once."""
    store = owned_store(slug)
    form = LabelForm()
    if not form.validate_on_submit():
        flash("That change could not be saved: " + "; ".join(
            f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()), "error")
        return redirect(url_for(".labels", slug=store.slug))
    try:
        label_service.set_label_wording(
            db.session, store, form.label.data, text=form.text.data, hidden=form.hidden.data,
            texts={"es": form.text_es.data, "fr": form.text_fr.data, "de": form.text_de.data},
            stage=form.stage.data)
    except label_service.LabelError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".labels", slug=store.slug))
    db.session.commit()
    flash(f"“{form.label.data}” updated.", "success")
    return redirect(url_for(".labels", slug=store.slug) + "#labels")
