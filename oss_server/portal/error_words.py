"""Field paths of rejected updates (``order.items.0.qty_ordered``) in the merchant's words."""
from __future__ import annotations

# One wording per field name of the wire protocol (docs/protocol.md) and per refusal code.
_NAMES = {
    "order": "order", "bill_to": "billing details", "ship_to": "shipping details",
    "items": "item", "tracking": "tracking", "order_number": "order number",
    "cart_order_number": "cart order number", "status": "status", "update_id": "update id",
    "sequence": "sequence", "occurred_at": "event time", "event": "event",
    "notify_customer": "notify customer", "zip": "ZIP/postal code", "email": "email",
    "phone": "phone", "name": "name", "sku": "SKU", "line_id": "line id",
    "qty_ordered": "quantity ordered", "qty_shipped": "quantity shipped",
    "qty_needed": "quantity still needed", "carrier": "carrier", "number": "number",
    "shipped_on": "ship date", "url": "tracking address",
    "expected_ship_date": "expected ship date", "actual_ship_date": "actual ship date",
    # Codes of whole requests refused (see errors.py).
    "invalid_signature": "signature", "subscription_expired": "subscription",
    "bad_request": "request", "payload_too_large": "request size",
    "unsupported_media_type": "content type", "invalid_api_key": "API key",
    "rate_limited": "request rate",
}
# Lists whose entries are numbered for people, from 1.
_NUMBERED = {"items": "item", "tracking": "tracking"}


def plain_field(path: str) -> str:
    """Say which field an error concerns: ``order.items.0.qty_ordered`` → Item 1, quantity."""
    words: list[str] = []
    parts = [p for p in path.split(".") if p and p != "_schema"]
    index = 0
    while index < len(parts):
        part = parts[index]
        following = parts[index + 1] if index + 1 < len(parts) else None
        # ASCII and short: a path's parts can be keys an update sent, and "²".isdigit().
        if (part in _NUMBERED and following is not None and following.isascii()
                and following.isdigit() and len(following) <= 6):
            words.append(f"{_NUMBERED[part]} {int(following) + 1}")
            index += 2
            continue
        words.append(_NAMES.get(part, part.replace("_", " ")))
        index += 1
    # "order" alone names the whole update; before a field it adds nothing.
    if len(words) > 1 and words[0] == "order":
        words = words[1:]
    text = ", ".join(words) or "update"
    return text[:1].upper() + text[1:]


def plain_errors(errors: dict | None) -> list[tuple[str, str]]:
    """Return (field in plain words, message) pairs, in path order."""
    return [(plain_field(path), str(message)) for path, message in sorted((errors or {}).items())]
