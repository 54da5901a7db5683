"""The order's own stored fields, each declared once: its column and where an update holds it.

Items, tracking and history have tables and lists of their own; this is the order's row.

To add a field (a date such as ``expected_ship_date``, a name such as ``ship_to_name``),
declare it in ``ORDER_FIELDS``. From that list, at import, come: the snapshot writer's
row (``services.snapshot_writer``), and with it the columns of the bulk INSERT and
UPDATE (``storage.bulk_writes`` takes them from the row's keys); what the API and the
shopper read back (``services.shopper.order_view``); the names the merchant's order
search matches (``services.order_search``). Still written out by hand, each held to this
list by a test that names the file:

- ``models/orders.py`` (the column, typed) and a migration;
- ``schemas/updates.py`` (the wire contract: validation) and ``schemas/fast_path.py``
  (its text checks; dates are found by type);
- shown fields: ``storage/shop_pages.py`` (``_OrderRow``, ``ShopperOrder``: typed rows),
  ``schemas/orders.py`` and ``schemas/shopper.py`` (the output contract, OpenAPI),
  ``templates/portal/order.html``;
- ``portal/error_words.py`` (the field's name in the merchant's words).

Chosen per field, with no test: whether the shopper's status page
(``templates/shop/status.html``) shows it, ``docs/protocol.md``, the client
(``seom_client``) when it fills the field, ``benchmarks/dataset.py``'s column list.
"""
from __future__ import annotations

from typing import NamedTuple

# How the snapshot writer stores a field's value.
COPIED = "copied"            # as validated; absent or null is NULL
TRIMMED = "trimmed"          # a number people type, trimmed; blank is NULL (optional ones)
HASHED = "hashed"            # a verification factor: only its keyed hash is stored
KEPT_FOR_EMAILS = "kept"     # in clear, only while the store sends shopper emails


class OrderField(NamedTuple):
    """One column of ``orders`` filled from each update."""

    column: str
    source: str              # dotted path in an UPDATE: "order.bill_to.name", "sequence"
    how: str = COPIED
    shown: bool = False      # read back by the API key holder and the shopper
    searched: bool = False   # the merchant's order search matches it (case-insensitively)


ORDER_FIELDS: tuple[OrderField, ...] = (
    OrderField("order_number", "order.order_number", TRIMMED, shown=True),
    OrderField("cart_order_number", "order.cart_order_number", TRIMMED, shown=True),
    OrderField("status", "order.status", shown=True),
    OrderField("bill_to_name", "order.bill_to.name", shown=True, searched=True),
    OrderField("ship_to_name", "order.ship_to.name", shown=True, searched=True),
    OrderField("zip_hash", "order.bill_to.zip", HASHED),
    OrderField("email_hash", "order.bill_to.email", HASHED),
    OrderField("phone_hash", "order.bill_to.phone", HASHED),
    OrderField("email", "order.bill_to.email", KEPT_FOR_EMAILS),
    OrderField("expected_ship_date", "order.expected_ship_date", shown=True),
    OrderField("actual_ship_date", "order.actual_ship_date", shown=True),
    # The snapshot's ordering key and the update that brought it.
    OrderField("occurred_at", "occurred_at"),
    OrderField("sequence", "sequence"),
    OrderField("last_update_id", "update_id"),
)

# The other columns of ``orders``: no update field fills them as such.
OTHER_COLUMNS: dict[str, str] = {
    "id": "the row's id",
    "store_id": "the batch's store, on insert",
    "order_key": "order_number trimmed and case-folded, on insert: what lookups match",
    "cart_key": "cart_order_number trimmed and case-folded, by the snapshot writer",
    "created_at": "the batch's time, on insert",
    "updated_at": "the batch's time, by the snapshot writer",
    "shopper_locale": "the language of the shopper's last lookup, by the lookup",
}

if any(f.source.count(".") > 2 for f in ORDER_FIELDS):
    raise TypeError("the wire nests objects one deep in the order (order.bill_to.name)")

SHOWN_COLUMNS: tuple[str, ...] = tuple(f.column for f in ORDER_FIELDS if f.shown)
# Where each shown column is on the wire, within the order: bill_to_name at ("bill_to", "name").
SHOWN_PATHS: tuple[tuple[str, ...], ...] = tuple(
    tuple(f.source.split(".")[1:]) for f in ORDER_FIELDS if f.shown)
SEARCHED_COLUMNS: tuple[str, ...] = tuple(f.column for f in ORDER_FIELDS if f.searched)


def copied_by_object() -> tuple[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], ...]:
    """The copied fields grouped by the object holding them: ((path), ((column, key), ...)).

    The path leads from the update to the object (``()`` the update itself,
    ``("order", "bill_to")`` its billing details), so a writer reaches each object once.
    """
    groups: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for field in ORDER_FIELDS:
        if field.how == COPIED:
            *parent, key = field.source.split(".")
            groups.setdefault(tuple(parent), []).append((field.column, key))
    return tuple((parent, tuple(pairs)) for parent, pairs in groups.items())
