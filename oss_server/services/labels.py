"""How a store's status labels read to shoppers.

``Store.label_map`` maps a label as the order manager sends it to how shoppers see it::

    {"Shipped": {"text": "On its way", "hidden": false},
     "Fraud Review": {"text": null, "hidden": true}}

Labels match exactly first, then ignoring case. A label with no entry reads as sent.
A hidden label is never shown: an order whose status is hidden shows its latest visible
status from the history instead, and with none, a neutral "Processing".
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from ..errors import BadRequest
from ..models import Order, Store

MAX_LABEL = 64
MAX_TEXT = 64


class LabelError(BadRequest):
    code = "label_error"


def _entry(store: Store, label: str) -> dict | None:
    mapping = store.label_map or {}
    if label in mapping:
        return mapping[label]
    folded = label.casefold()
    for key, entry in mapping.items():
        if key.casefold() == folded:
            return entry
    return None


def label_text(store: Store, label: str | None) -> str | None:
    """Return how *label* reads to shoppers, or None when it is empty or hidden."""
    if not label:
        return None
    entry = _entry(store, label)
    if entry is None:
        return label
    if entry.get("hidden"):
        return None
    return entry.get("text") or label


def shopper_label(store: Store, order: Order) -> str | None:
    """Return the order's status as shoppers read it; None if nothing visible is left."""
    shown = label_text(store, order.status)
    if shown is not None:
        return shown
    for change in sorted(order.history, key=lambda c: (c.occurred_at, c.id or 0), reverse=True):
        if change.line_id is None:
            shown = label_text(store, change.to_status)
            if shown is not None:
                return shown
    return None


def set_label_wording(session: Session, store: Store, label: str, text: str | None = None,
                      hidden: bool = False) -> dict:
    """Set how *label* reads to shoppers (or hide it); no text and not hidden resets it."""
    label = (label or "").strip()
    text = (text or "").strip() or None
    if not label or len(label) > MAX_LABEL:
        raise LabelError(f"A label is 1–{MAX_LABEL} characters.")
    if text is not None and len(text) > MAX_TEXT:
        raise LabelError(f"The shopper wording is at most {MAX_TEXT} characters.")
    # A new dict, not an in-place edit: JSON columns only notice reassignment.
    mapping = {k: v for k, v in (store.label_map or {}).items() if k.casefold() != label.casefold()}
    if text is not None or hidden:
        mapping[label] = {"text": text, "hidden": bool(hidden)}
    store.label_map = mapping
    session.flush()
    return mapping
