"""A hand-written fast path for ``UpdateIn().load`` plus ``screen`` on valid updates.

Ingestion spends most of its validation time inside marshmallow. This module
accepts only updates it can prove valid, and returns exactly what
``UpdateIn().load`` would; for anything else it answers ``None`` and the caller
runs the marshmallow schema and the screening, so every error path and message
comes from the schema that defines the wire contract (and the OpenAPI document).
tests/api/test_update_check.py holds the two paths equal.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from ..security.cards import contains_card_number
from .fields import _CONTROL
from .screening import _NOT_SCANNED
from .updates import SEQUENCE_MAX, UPDATE_ID

_UPDATE_ID = UPDATE_ID.regex
# Only the shapes both parsers read alike; anything else goes to marshmallow.
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})")
_QTY_MAX = 1_000_000


def _spec(**fields: tuple) -> dict[str, tuple[int, int, bool, bool]]:
    """Text fields of one object: name -> (max length, min length, required, card-scanned)."""
    return {name: (max_len, min_len, required, name not in _NOT_SCANNED)
            for name, (max_len, min_len, required) in fields.items()}


# Required text fields refuse None as well; optional ones stay absent when absent.
_UPDATE_TEXT = _spec(event=(64, 0, False))
_ORDER_TEXT = _spec(order_number=(64, 1, True), status=(64, 1, True),
                    cart_order_number=(64, 0, False))
_BILL_TO_TEXT = _spec(name=(200, 0, False), zip=(20, 0, False), email=(254, 0, False),
                      phone=(40, 0, False))
_SHIP_TO_TEXT = _spec(name=(200, 0, False))
_ITEM_TEXT = _spec(line_id=(64, 1, True), sku=(64, 0, False), name=(200, 0, False),
                   status=(64, 0, False))
_TRACKING_TEXT = _spec(number=(64, 1, True), carrier=(64, 0, False))

_UPDATE_KEYS = frozenset({"update_id", "sequence", "occurred_at", "notify_customer", "order",
                          *_UPDATE_TEXT})
_ORDER_KEYS = frozenset({"bill_to", "ship_to", "expected_ship_date", "actual_ship_date",
                         "items", "tracking", *_ORDER_TEXT})
_BILL_TO = _BILL_TO_TEXT.keys()
_ITEM_KEYS = frozenset({"qty_ordered", "qty_shipped", "qty_needed", "expected_ship_date",
                        "actual_ship_date", *_ITEM_TEXT})
_TRACKING_KEYS = frozenset({"shipped_on", *_TRACKING_TEXT})


class _Unsure(Exception):
    """Not provably valid: let marshmallow and the screening decide."""


def fast_load(raw) -> dict | None:
    """Return ``UpdateIn().load(raw)`` for an update that is valid and clean, else None."""
    texts: list[str] = []
    scanned: list[str] = []
    try:
        data = _update(raw, texts, scanned)
    except _Unsure:
        return None
    # One regex pass each over all the update's text instead of two per field. A line
    # break joins them: it is neither a control character refused here nor a card-number
    # separator, so no match can span two values.
    if _CONTROL.search("\n".join(texts)) or contains_card_number("\n".join(scanned)):
        return None
    return data


def _texts(source: dict, spec: dict, data: dict, texts: list, scanned: list) -> dict:
    """Check the text fields *spec* names in *source* and copy them into *data*."""
    # One loop per object rather than one call per field: ingestion runs this per update.
    for key, (max_len, min_len, required, scan) in spec.items():
        if key not in source:
            if required:
                raise _Unsure
            continue
        value = source[key]
        if value is None:
            if required:
                raise _Unsure
        elif type(value) is not str or not min_len <= len(value) <= max_len:
            raise _Unsure
        else:
            texts.append(value)
            if scan:
                scanned.append(value)
        data[key] = value
    return data


def _int(value, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise _Unsure
    return value


def _dates(source: dict, data: dict, *keys: str) -> None:
    for key in keys:
        if key not in source:
            continue
        value = source[key]
        if value is not None:
            if type(value) is not str or not _DATE.fullmatch(value):
                raise _Unsure
            try:
                value = date.fromisoformat(value)
            except ValueError:
                raise _Unsure from None
        data[key] = value


def _update(raw, texts: list, scanned: list) -> dict:
    if type(raw) is not dict or not raw.keys() <= _UPDATE_KEYS:
        raise _Unsure
    update_id = raw.get("update_id")
    if type(update_id) is not str or not _UPDATE_ID.fullmatch(update_id):
        raise _Unsure
    texts.append(update_id)
    occurred_at = raw.get("occurred_at")
    if type(occurred_at) is not str or not _DATETIME.fullmatch(occurred_at):
        raise _Unsure
    scanned.append(occurred_at)
    try:
        when = datetime.fromisoformat(occurred_at)
        when.astimezone(timezone.utc)  # out of range in UTC: the schema refuses it
    except (ValueError, OverflowError):
        raise _Unsure from None
    notify = raw.get("notify_customer", False)
    if type(notify) is not bool:
        raise _Unsure
    data = {"update_id": update_id, "sequence": _int(raw.get("sequence"), 0, SEQUENCE_MAX),
            "occurred_at": when, "notify_customer": notify,
            "order": _order(raw.get("order"), texts, scanned)}
    return _texts(raw, _UPDATE_TEXT, data, texts, scanned)


def _order(raw, texts: list, scanned: list) -> dict:
    if type(raw) is not dict or not raw.keys() <= _ORDER_KEYS:
        raise _Unsure
    data = _texts(raw, _ORDER_TEXT, {}, texts, scanned)
    if not data["order_number"].strip() or not (
            data["order_number"].isascii() and (data.get("cart_order_number") or "").isascii()):
        raise _Unsure  # blank, or non-ASCII whose case-folded length the schema checks
    data["bill_to"] = _bill_to(raw.get("bill_to"), texts, scanned)
    data["items"] = _items(raw.get("items", []), texts, scanned)
    data["tracking"] = _tracking(raw.get("tracking", []), texts, scanned)
    if "ship_to" in raw:
        data["ship_to"] = _ship_to(raw["ship_to"], texts, scanned)
    _dates(raw, data, "expected_ship_date", "actual_ship_date")
    return data


def _bill_to(raw, texts: list, scanned: list) -> dict:
    if type(raw) is not dict or not raw.keys() <= _BILL_TO:
        raise _Unsure
    data = _texts(raw, _BILL_TO_TEXT, {}, texts, scanned)
    if not any((data.get(k) or "").strip() for k in ("zip", "email", "phone")):
        raise _Unsure
    return data


def _ship_to(raw, texts: list, scanned: list) -> dict | None:
    if raw is None:
        return None
    if type(raw) is not dict or not raw.keys() <= _SHIP_TO_TEXT.keys():
        raise _Unsure
    return _texts(raw, _SHIP_TO_TEXT, {}, texts, scanned)


def _items(raw, texts: list, scanned: list) -> list[dict]:
    if type(raw) is not list or len(raw) > 1000:
        raise _Unsure
    seen: set[str] = set()
    items = []
    for item in raw:
        if type(item) is not dict or not item.keys() <= _ITEM_KEYS:
            raise _Unsure
        data = {"qty_ordered": _int(item.get("qty_ordered", 0), 0, _QTY_MAX),
                "qty_shipped": _int(item.get("qty_shipped", 0), 0, _QTY_MAX),
                "qty_needed": _int(item.get("qty_needed", 0), 0, _QTY_MAX)}
        _texts(item, _ITEM_TEXT, data, texts, scanned)
        if data["line_id"] in seen:
            raise _Unsure
        seen.add(data["line_id"])
        _dates(item, data, "expected_ship_date", "actual_ship_date")
        items.append(data)
    return items


def _tracking(raw, texts: list, scanned: list) -> list[dict]:
    if type(raw) is not list or len(raw) > 100:
        raise _Unsure
    rows = []
    for entry in raw:
        if type(entry) is not dict or not entry.keys() <= _TRACKING_KEYS:
            raise _Unsure
        data = _texts(entry, _TRACKING_TEXT, {}, texts, scanned)
        _dates(entry, data, "shipped_on")
        rows.append(data)
    return rows
