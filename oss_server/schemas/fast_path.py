"""The fast path of update validation: ``UpdateIn().load`` plus ``screen``, for valid updates.

Ingestion spends most of its validation time inside marshmallow. This module
accepts only updates it can prove valid, and returns exactly what
``UpdateIn().load`` would; for anything else it answers ``None`` and the caller
runs the marshmallow schema and the screening, so every error path and message
comes from the schema that defines the wire contract (and the OpenAPI document).
tests/api/test_update_check.py holds the two paths equal.

Each object is checked field by field in straight-line code and then copied whole
(``dict(raw)``): what is absent stays absent and an explicit null stays null, as the
schema leaves them, and only dates, the time and defaults are put in. Ingestion runs
this for every update, and a generic loop over a table of fields cost twice as much.

The wire contract is written once, in ``schemas/updates.py``: the field names, lengths
and ranges checked here are read from its fields when this module is imported.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from marshmallow import Schema, fields, validate

from .fields import CONTROL_CHARACTERS, is_single_address
from .screening import contains_card_number
from .updates import (
    QTY,
    SEQUENCE_MAX,
    UPDATE_ID,
    BillToIn,
    ItemIn,
    OrderIn,
    ShipToIn,
    TrackingIn,
    UpdateIn,
)

_UPDATE_ID = UPDATE_ID.regex.fullmatch
# Only the shapes both parsers read alike; anything else goes to marshmallow.
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}").fullmatch
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})").fullmatch
_DIGITS = b"0123456789"


def _keys(schema: type[Schema]) -> frozenset[str]:
    """Every field an object of *schema* may hold (the schema refuses any other)."""
    return frozenset(schema._declared_fields)


def _longest(schema: type[Schema], name: str) -> int:
    """The most characters (or list entries) the schema's field *name* accepts."""
    for check in schema._declared_fields[name].validators:
        if isinstance(check, validate.Length) and check.max is not None:
            return check.max
    raise LookupError(f"{schema.__name__}.{name} has no maximum length")


# Text fields and their lengths are checked below; which of them the screening scans for
# card numbers follows ``screening.NOT_SCANNED`` (order and tracking numbers, zip, phone
# are not).
_UPDATE_KEYS, _ORDER_KEYS, _BILL_TO = _keys(UpdateIn), _keys(OrderIn), _keys(BillToIn)
_SHIP_TO, _ITEM_KEYS, _TRACKING_KEYS = _keys(ShipToIn), _keys(ItemIn), _keys(TrackingIn)
_EVENT = _longest(UpdateIn, "event")
_NUMBER, _CART = _longest(OrderIn, "order_number"), _longest(OrderIn, "cart_order_number")
_STATUS = _longest(OrderIn, "status")
_ITEMS, _TRACKINGS = _longest(OrderIn, "items"), _longest(OrderIn, "tracking")
_BILL_NAME, _ZIP = _longest(BillToIn, "name"), _longest(BillToIn, "zip")
_EMAIL, _PHONE = _longest(BillToIn, "email"), _longest(BillToIn, "phone")
_SHIP_NAME = _longest(ShipToIn, "name")
_LINE_ID, _SKU = _longest(ItemIn, "line_id"), _longest(ItemIn, "sku")
_ITEM_NAME, _ITEM_STATUS = _longest(ItemIn, "name"), _longest(ItemIn, "status")
_TRACKING_NUMBER, _CARRIER = _longest(TrackingIn, "number"), _longest(TrackingIn, "carrier")
_QTY_MAX = QTY.max
# The order's ISO dates, whatever they are named (any other field is checked by name below;
# tests/api/test_update_check.py finds one that is not).
_ORDER_DATES = tuple(name for name, field in OrderIn._declared_fields.items()
                     if type(field) is fields.Date and field.format in (None, "iso"))


class _Unsure(Exception):
    """Not provably valid: let marshmallow and the screening decide."""


def fast_path_load(raw) -> dict | None:
    """Return ``UpdateIn().load(raw)`` for an update that is valid and clean, else None."""
    texts: list[str] = []    # every text value: no control characters
    scanned: list[str] = []  # the ones the screening scans for card numbers
    try:
        data = _update(raw, texts, scanned)
    except _Unsure:
        return None
    # One pass each over all the update's text instead of two per field. Text that is
    # all printable holds no control character, so the regex runs only on text that is
    # not (a tab, a line break, a non-breaking space...).
    text = "".join(texts)
    if not text.isprintable() and CONTROL_CHARACTERS.search(text):
        return None
    # "|" joins the scanned values: it is not a card-number separator, so no match can
    # span two values. An absent or null value joins as "".
    scan = "|".join(scanned)
    if _may_hold_card(scan) and contains_card_number(scan):
        return None
    return data


def _may_hold_card(text: str) -> bool:
    """False when *text* has too few digits for a card number (13): the search is skipped.

    Counted in bytes for ASCII text; other text may hold digits of other scripts, which
    the card check reads too, so it always runs.
    """
    if not text.isascii():
        return True
    return len(text) - len(text.encode("ascii").translate(None, _DIGITS)) >= 13


def _bad(value, max_len: int) -> bool:
    """An optional text field that is neither null nor a string of at most *max_len*."""
    return value is not None and (type(value) is not str or len(value) > max_len)


def _date(data: dict, key: str) -> None:
    value = data.get(key)
    if value is None:
        return  # absent stays absent, null stays null
    if type(value) is not str or not _DATE(value):
        raise _Unsure
    try:
        data[key] = date.fromisoformat(value)
    except ValueError:
        raise _Unsure from None


def _update(raw, texts: list, scanned: list) -> dict:
    if type(raw) is not dict or not raw.keys() <= _UPDATE_KEYS:
        raise _Unsure
    get = raw.get
    update_id, occurred_at, sequence = get("update_id"), get("occurred_at"), get("sequence")
    notify, event = get("notify_customer", False), get("event")
    if (type(update_id) is not str or not _UPDATE_ID(update_id)
            or type(occurred_at) is not str or not _DATETIME(occurred_at)
            or type(sequence) is not int or not 0 <= sequence <= SEQUENCE_MAX
            or type(notify) is not bool or _bad(event, _EVENT)):
        raise _Unsure
    try:
        when = datetime.fromisoformat(occurred_at)
        when.astimezone(timezone.utc)  # out of range in UTC: the schema refuses it
    except (ValueError, OverflowError):
        raise _Unsure from None
    texts += (update_id, event or "")
    # The time is not scanned: in the shape _DATETIME admits, no more than eight digits
    # are joined by card-number separators (":", "T", "+" and "Z" are not ones), and a
    # card number has at least 13.
    scanned.append(event or "")
    data = dict(raw)
    data["occurred_at"], data["notify_customer"] = when, notify
    data["order"] = _order(get("order"), texts, scanned)
    return data


def _order(raw, texts: list, scanned: list) -> dict:
    if type(raw) is not dict or not raw.keys() <= _ORDER_KEYS:
        raise _Unsure
    get = raw.get
    number, status, cart = get("order_number"), get("status"), get("cart_order_number")
    if (type(number) is not str or not 0 < len(number) <= _NUMBER
            or type(status) is not str or not 0 < len(status) <= _STATUS
            or _bad(cart, _CART)):
        raise _Unsure
    if not number.strip() or not (number.isascii() and (cart or "").isascii()):
        raise _Unsure  # blank, or non-ASCII whose case-folded length the schema checks
    texts += (number, status, cart or "")
    scanned.append(status)
    data = dict(raw)
    data["bill_to"] = _bill_to(get("bill_to"), texts, scanned)
    data["items"] = _items(get("items", []), texts, scanned)
    data["tracking"] = _tracking(get("tracking", []), texts, scanned)
    ship_to = get("ship_to")
    if ship_to is not None:
        data["ship_to"] = _ship_to(ship_to, texts, scanned)
    for key in _ORDER_DATES:
        _date(data, key)
    return data


def _bill_to(raw, texts: list, scanned: list) -> dict:
    if type(raw) is not dict or not raw.keys() <= _BILL_TO:
        raise _Unsure
    get = raw.get
    name, zip_code, email, phone = get("name"), get("zip"), get("email"), get("phone")
    if (_bad(name, _BILL_NAME) or _bad(zip_code, _ZIP) or _bad(email, _EMAIL)
            or _bad(phone, _PHONE)):
        raise _Unsure
    if not ((zip_code or "").strip() or (email or "").strip() or (phone or "").strip()):
        raise _Unsure
    if email and email.strip() and not is_single_address(email):
        raise _Unsure
    texts += (name or "", zip_code or "", email or "", phone or "")
    scanned += (name or "", email or "")
    return dict(raw)


def _ship_to(raw, texts: list, scanned: list) -> dict:
    if type(raw) is not dict or not raw.keys() <= _SHIP_TO:
        raise _Unsure
    name = raw.get("name")
    if _bad(name, _SHIP_NAME):
        raise _Unsure
    texts.append(name or "")
    scanned.append(name or "")
    return dict(raw)


def _items(raw, texts: list, scanned: list) -> list[dict]:
    if type(raw) is not list or len(raw) > _ITEMS:
        raise _Unsure
    seen: set[str] = set()
    items = []
    for item in raw:
        if type(item) is not dict or not item.keys() <= _ITEM_KEYS:
            raise _Unsure
        get = item.get
        line_id, sku, name, status = get("line_id"), get("sku"), get("name"), get("status")
        ordered, shipped = get("qty_ordered", 0), get("qty_shipped", 0)
        needed = get("qty_needed", 0)
        if (type(line_id) is not str or not 0 < len(line_id) <= _LINE_ID or line_id in seen
                or _bad(sku, _SKU) or _bad(name, _ITEM_NAME) or _bad(status, _ITEM_STATUS)
                or type(ordered) is not int or not 0 <= ordered <= _QTY_MAX
                or type(shipped) is not int or not 0 <= shipped <= _QTY_MAX
                or type(needed) is not int or not 0 <= needed <= _QTY_MAX):
            raise _Unsure
        seen.add(line_id)
        texts += (line_id, sku or "", name or "", status or "")
        scanned += (line_id, sku or "", name or "", status or "")
        data = dict(item)
        data["qty_ordered"], data["qty_shipped"], data["qty_needed"] = ordered, shipped, needed
        _date(data, "expected_ship_date")
        _date(data, "actual_ship_date")
        items.append(data)
    return items


def _tracking(raw, texts: list, scanned: list) -> list[dict]:
    if type(raw) is not list or len(raw) > _TRACKINGS:
        raise _Unsure
    rows = []
    for entry in raw:
        if type(entry) is not dict or not entry.keys() <= _TRACKING_KEYS:
            raise _Unsure
        number, carrier = entry.get("number"), entry.get("carrier")
        if (type(number) is not str or not 0 < len(number) <= _TRACKING_NUMBER
                or _bad(carrier, _CARRIER)):
            raise _Unsure
        texts += (number, carrier or "")
        scanned.append(carrier or "")
        data = dict(entry)
        _date(data, "shipped_on")
        rows.append(data)
    return rows
