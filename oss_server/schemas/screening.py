"""Refuse payment and street-address data before any schema sees it.

The rules report the field and the rule, never the value: rejected values are
neither echoed nor logged.
"""
from __future__ import annotations

import re

from ..security.cards import contains_card_number

NEVER_ACCEPTED = "Payment and street-address data is never accepted."
CARD_IN_TEXT = "Looks like a payment card number; payment data is never accepted."

# Compared with the key lower-cased and stripped of separators.
_FORBIDDEN_KEY = re.compile(
    r"card|cvv|cvc|cvn|securitycode|expir|expmonth|expyear|expdate|iban|bic$|swift|"
    r"routing|sortcode|bank|accountnumber|acctnumber|address|street|line1|line2|line3|"
    r"addr\d?$|housenumber|pan$"
)
# Identifiers are not Luhn-scanned: a tenth of random digit strings pass.
_NOT_SCANNED = {"update_id", "order_number", "cart_order_number", "line_id", "sku",
                "number", "zip", "phone"}


def is_forbidden_key(key: str) -> bool:
    """Tell whether a JSON key names payment or street-address data."""
    compact = re.sub(r"[^a-z0-9]", "", key.lower())
    return bool(_FORBIDDEN_KEY.search(compact))


def screen(value, path: str = "", key: str = "") -> dict[str, str]:
    """Return ``{path: message}`` for every forbidden key or card-like text in *value*."""
    errors: dict[str, str] = {}
    if isinstance(value, dict):
        for child_key, child in value.items():
            child_path = f"{path}.{child_key}" if path else str(child_key)
            if is_forbidden_key(str(child_key)):
                errors[child_path] = NEVER_ACCEPTED
            else:
                errors.update(screen(child, child_path, str(child_key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            errors.update(screen(child, f"{path}.{index}", key))
    elif isinstance(value, str) and key not in _NOT_SCANNED and contains_card_number(value):
        errors[path] = CARD_IN_TEXT
    return errors
