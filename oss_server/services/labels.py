"""How a store's status labels read to shoppers, in their language, and their stage.

``Store.label_map`` maps a label as the order manager sends it to how shoppers see it::

    {"Shipped": {"text": "On its way", "hidden": false,
                 "texts": {"es": "En camino", "de": "Unterwegs"}, "stage": "shipped"},
     "Fraud Review": {"text": null, "hidden": true}}

Labels match exactly first, then ignoring case. In a language other than English a label
reads as the merchant worded it for that language (``texts``), else as the standard
labels' own translation (:mod:`.standard_labels`), else as the merchant's ``text``, else
as sent; in English as ``text``, else as sent. A hidden label is never shown, in any
language: an order whose status is hidden shows its latest visible status from the
history instead, and with none, a neutral "Processing". ``stage`` places the label on
the progress tracker; without one a standard label keeps its standard stage and any
other label is "processing".
"""
from __future__ import annotations

from typing import Any

from ..errors import BadRequest
from ..models import Store
from ..storage import DbSession
from .shown import LabelledOrder, LabelledStore
from .standard_labels import LANGUAGES, STAGES, standard_stage, standard_wording

MAX_LABEL = 64
MAX_TEXT = 64


class LabelError(BadRequest):
    code = "label_error"


def _entry(store: LabelledStore, label: str) -> dict | None:
    mapping = store.label_map or {}
    if label in mapping:
        return mapping[label]
    folded = label.casefold()
    for key, entry in mapping.items():
        if key.casefold() == folded:
            return entry
    return None


def label_text(store: LabelledStore, label: str | None, locale: str = "en") -> str | None:
    """Return how *label* reads to shoppers in *locale*, or None when it is empty or hidden."""
    if not label:
        return None
    entry = _entry(store, label)
    if entry is not None and entry.get("hidden"):
        return None
    if locale != "en":
        worded = (entry or {}).get("texts") or {}
        wording = worded.get(locale) or standard_wording(label, locale)
        if wording:
            return wording
    return (entry or {}).get("text") or label


def label_stage(store: LabelledStore, label: str | None) -> str:
    """Return the stage of the progress tracker that *label* belongs to."""
    entry = _entry(store, label) if label else None
    stage = (entry or {}).get("stage")
    return stage if stage in STAGES else standard_stage(label)


def visible_status(store: LabelledStore, order: LabelledOrder) -> str | None:
    """The order's label shoppers see: its status, else the latest visible one before it."""
    if label_text(store, order.status) is not None:
        return order.status
    for change in sorted(order.history, key=lambda c: (c.occurred_at, c.id or 0), reverse=True):
        if change.line_id is None and label_text(store, change.to_status) is not None:
            return change.to_status
    return None


def shopper_label(store: LabelledStore, order: LabelledOrder, locale: str = "en") -> str | None:
    """Return the order's status as shoppers read it; None if nothing visible is left."""
    return label_text(store, visible_status(store, order), locale)


def set_label_wording(session: DbSession, store: Store, label: str, text: str | None = None,
                      hidden: bool = False, texts: dict | None = None,
                      stage: str | None = None) -> dict:
    """Set how *label* reads to shoppers per language, its stage, or hide it.

    *texts* maps ``es``, ``fr`` and ``de`` to wordings; *stage* is one of
    :data:`~.standard_labels.STAGES`. Nothing worded, not hidden and the label's
    standard stage resets it.
    """
    label = (label or "").strip()
    text = _wording(text)
    texts = {lang: _wording(value) for lang, value in (texts or {}).items()}
    if not label or len(label) > MAX_LABEL:
        raise LabelError(f"A label is 1–{MAX_LABEL} characters.")
    if set(texts) - set(LANGUAGES[1:]):
        raise LabelError("Wordings are given for Spanish, French and German (es, fr, de).")
    texts = {lang: value for lang, value in sorted(texts.items()) if value}
    stage = (stage or "").strip() or None
    if stage is not None and stage not in STAGES:
        raise LabelError(f"A stage is one of: {', '.join(STAGES)}.")
    if stage == standard_stage(label):
        stage = None  # the default needs no entry, and follows the standard list
    # A new dict, not an in-place edit: JSON columns only notice reassignment.
    mapping = {k: v for k, v in (store.label_map or {}).items() if k.casefold() != label.casefold()}
    if text is not None or hidden or texts or stage:
        entry: dict[str, Any] = {"text": text, "hidden": bool(hidden)}
        if texts:
            entry["texts"] = texts
        if stage:
            entry["stage"] = stage
        mapping[label] = entry
    store.label_map = mapping
    session.flush()
    return mapping


def _wording(value: str | None) -> str | None:
    value = (value or "").strip() or None
    if value is not None and len(value) > MAX_TEXT:
        raise LabelError(f"The shopper wording is at most {MAX_TEXT} characters.")
    return value
