"""What a shopper may see of an order: an allow-list, built once for HTML and JSON.

Nothing here reads the verification factors; the view simply has no field for them.
The functions read attributes only, so they take ORM objects and the rows of
:mod:`..storage.shop_pages` alike (typed as :mod:`.shown`'s protocols).
"""
from __future__ import annotations

from ..models.order_fields import SHOWN_COLUMNS, SHOWN_PATHS
from ..security.urls import mailto_href, safe_colour, safe_url, support_href
from .carriers import link_for
from .labels import label_stage, label_text, visible_status
from .shown import ShownOrder, ShownStore

# The order's own fields a shopper sees: (column, key in the order, key within that object
# or None). The wire nests one object deep (bill_to.name), which order_fields checks.
_SHOWN = tuple((column, path[0], path[1] if len(path) > 1 else None)
               for column, path in zip(SHOWN_COLUMNS, SHOWN_PATHS))


def store_view(store: ShownStore) -> dict:
    """Return the store's public branding and support contact (addresses that pass today)."""
    # A row stored before the address rules is left out rather than shown as typed: the
    # JSON lookup's embedders put these in href and src too.
    return {"name": store.name, "slug": store.slug,
            "support_email": store.support_email if mailto_href(store.support_email) else None,
            "support_phone": store.support_phone, "support_url": support_href(store.support_url),
            "logo_url": safe_url(store.logo_url), "accent_color": safe_colour(store.accent_color)}


def order_view(store: ShownStore, order: ShownOrder, locale: str = "en") -> dict:
    """Return the shopper's view of *order*, labels worded in *locale*, hidden ones left out."""
    names = {item.line_id: item.name or item.sku or item.line_id for item in order.items}
    status = visible_status(store, order)
    view: dict = {}
    for column, key, inner in _SHOWN:
        if inner is None:
            view[key] = getattr(order, column)
        else:
            view.setdefault(key, {})[inner] = getattr(order, column)
    return {
        **view,
        "status": label_text(store, status, locale),
        # Nothing visible reads "Processing" on the page: its stage too.
        "stage": label_stage(store, status) if status else "processing",
        "items": [{
            "sku": item.sku, "name": item.name, "qty_ordered": item.qty_ordered,
            "qty_shipped": item.qty_shipped, "qty_needed": item.qty_needed,
            "status": label_text(store, item.status, locale),
            "expected_ship_date": item.expected_ship_date,
            "actual_ship_date": item.actual_ship_date,
        } for item in order.items],
        "tracking": [dict(vars(link_for(t.number, t.carrier, store.carrier_rules)),
                          shipped_on=t.shipped_on) for t in order.tracking],
        "history": _history(store, order, names, locale),
        "updated_at": order.updated_at,
    }


def _history(store: ShownStore, order: ShownOrder, names: dict, locale: str) -> list[dict]:
    entries = []
    for change in sorted(order.history, key=lambda c: (c.occurred_at, c.id or 0), reverse=True):
        shown = label_text(store, change.to_status, locale)
        if shown is None:
            continue
        item = names.get(change.line_id) if change.line_id else None
        if change.line_id and item is None:
            continue  # the line was removed from the order since
        entries.append({"at": change.occurred_at, "status": shown, "item": item})
    return entries
