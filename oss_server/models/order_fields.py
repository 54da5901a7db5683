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

from collections.abc import Callable
from types import MappingProxyType
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


def _column_copier() -> Callable[[dict], dict]:
    """Build ``copy_columns``: straight-line code for the copied fields, made at import.

    Ingestion builds this row for every update, and a loop over the field list cost
    more than the dict written out by hand (docs/performance.md). So the code one would
    write by hand is generated from the list, as ``collections.namedtuple`` and
    ``dataclasses`` generate theirs: each object of the update is reached once, and an
    absent or null one (``ship_to``) reads as empty.
    """
    objects: dict[tuple[str, ...], str] = {(): "update"}
    lines = ["def copy_columns(update):"]
    entries = []
    for field in ORDER_FIELDS:
        if field.how != COPIED:
            continue
        *parent, key = field.source.split(".")
        for depth in range(1, len(parent) + 1):
            path = tuple(parent[:depth])
            if path not in objects:
                objects[path] = f"object_{len(objects)}"
                lines.append(f"    {objects[path]} = "
                             f"{objects[path[:-1]]}.get({path[-1]!r}) or _EMPTY")
        entries.append(f"{field.column!r}: {objects[tuple(parent)]}.get({key!r})")
    lines.append(f"    return {{{', '.join(entries)}}}")
    namespace: dict = {"_EMPTY": MappingProxyType({})}
    # Only this module's own column names and wire keys go into the code, as literals.
    exec("\n".join(lines), namespace)
    return namespace["copy_columns"]


# copy_columns(update) -> {column: value} for every COPIED field of a validated update.
copy_columns: Callable[[dict], dict] = _column_copier()
