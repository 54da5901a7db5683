"""Card and street-address screening: the one rule the client and the server both apply.

Payment and street-address data must never leave the order manager, and the OSS refuses
it too. Both sides import this module (the server may import from ``seom_client``, never
the reverse), so the rule cannot drift between them. Standard library only.

The rule: a key that names payment or street-address data is refused; so is a text value
holding 13–19 digits that pass the Luhn check once any run of whitespace (any Unicode
space, tab or line break) or ``. - / _`` between them is ignored. A 13- or 14-digit run
that is a valid GTIN (an EAN-13 / GTIN-14 barcode with its own check digit) is not a
card: a tenth of real barcodes pass Luhn. Messages name the field and the rule, never
the value.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

__all__ = [
    "CARD_IN_TEXT", "CARD_RUN", "NEVER_ACCEPTED", "NOT_SCANNED", "contains_card_number",
    "is_forbidden_key", "is_gtin", "luhn_ok", "screen",
]

NEVER_ACCEPTED = "Payment and street-address data is never accepted."
CARD_IN_TEXT = "Looks like a payment card number; payment data is never accepted."

# What may stand between the digits of a written card number: any run of whitespace
# (str patterns match Unicode spaces, no-break space included) or of . - / _.
_SEPARATOR = r"[\s./_-]"
# Groups of digits joined by separators; the groups are then tried whole (below).
_RUN = re.compile(r"\d+(?:" + _SEPARATOR + r"+\d+)*")
_SPLIT = re.compile(_SEPARATOR + "+")

# For log redaction: 13–19 digits with the same separators between them, not inside a
# longer digit run. No Luhn test here: a log line loses nothing by masking a few more.
CARD_RUN = re.compile(r"(?<!\d)\d(?:" + _SEPARATOR + r"*\d){12,18}(?!\d)")

# Compared with the key lower-cased and stripped of separators.
_FORBIDDEN_KEY = re.compile(
    r"card|cvv|cvc|cvn|securitycode|expir|expmonth|expyear|expdate|iban|bic$|swift|"
    r"routing|sortcode|bank|accountnumber|acctnumber|address|street|line1|line2|line3|"
    r"addr\d?$|housenumber|pan$"
)
# Identifiers that are not Luhn-scanned: a tenth of random digit strings pass, and an
# order or tracking number is the merchant's own. SKUs and line ids *are* scanned: the
# SKU is shown to shoppers and either could carry a pasted card number.
NOT_SCANNED = frozenset({"update_id", "order_number", "cart_order_number", "number",
                         "zip", "phone"})


# Each digit doubled, its digits summed (Luhn): 5 → 10 → 1.
_DOUBLED = bytes.maketrans(b"0123456789", b"0246813579")


def luhn_ok(digits: str) -> bool:
    """Tell whether a digit string (any script's decimal digits) passes the Luhn check."""
    if not digits.isascii():
        digits = "".join(str(int(char)) for char in digits)
    # Summed as bytes: a long run of short digit groups means thousands of checks.
    raw = digits.encode("ascii")
    total = sum(raw[-1::-2]) + sum(raw[-2::-2].translate(_DOUBLED)) - 48 * len(raw)
    return total % 10 == 0


def is_gtin(digits: str) -> bool:
    """Tell whether *digits* is a GTIN-8/12/13/14 (EAN-13, GTIN-14...) with a valid check digit."""
    if len(digits) not in (8, 12, 13, 14) or not digits.isdecimal():
        return False
    # Weights 3, 1, 3... from the digit left of the check digit, whatever the length.
    total = sum(int(char) * (3 if index % 2 == 0 else 1)
                for index, char in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == int(digits[-1])


def _is_card(digits: str) -> bool:
    if not 13 <= len(digits) <= 19 or not luhn_ok(digits):
        return False
    return not (len(digits) <= 14 and is_gtin(digits))


def contains_card_number(text: str) -> bool:
    """Tell whether *text* holds a card-like digit run (separators ignored, Luhn, not a GTIN)."""
    if len(text) < 13:  # most values (labels, names, dates) are shorter than any card
        return False
    for match in _RUN.finditer(text):
        groups = _SPLIT.split(match.group())
        if sum(len(group) for group in groups) < 13:
            continue
        # A written card may run into other digits ("4111 1111 1111 1111 2"): try every
        # stretch of whole groups. Not arbitrary windows of one long run: those are not
        # card numbers, and a tenth of any digits pass Luhn.
        count = len(groups)
        for start in range(count):
            digits, end = "", start
            # Indexed, not groups[start:]: a copy per start costs quadratic time on a long
            # run of short groups ("1 1 1 …").
            while end < count and len(digits) <= 19:
                digits += groups[end]
                end += 1
                if _is_card(digits):
                    return True
    return False


# An update holds the same dozen keys again and again; the set seen is bounded.
@lru_cache(maxsize=4096)
def is_forbidden_key(key: str) -> bool:
    """Tell whether a JSON key names payment or street-address data."""
    compact = re.sub(r"[^a-z0-9]", "", key.lower())
    return bool(_FORBIDDEN_KEY.search(compact))


def screen(value: Any, path: str = "", key: str = "") -> dict[str, str]:
    """Return ``{dotted.path: message}`` for every forbidden key or card-like text in *value*."""
    if _clean(value, key):  # nearly always: then no path is ever spelled out
        return {}
    return _findings(value, path, key)


def _clean(value: Any, key: str) -> bool:
    """Tell whether *value* holds no forbidden key and no card-like text (screen's rule)."""
    if isinstance(value, str):
        return key in NOT_SCANNED or not contains_card_number(value)
    if isinstance(value, dict):
        for child_key, child in value.items():
            name = str(child_key)
            if is_forbidden_key(name) or not _clean(child, name):
                return False
    elif isinstance(value, (list, tuple)):
        for child in value:
            if not _clean(child, key):
                return False
    return True


def _findings(value: Any, path: str, key: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if isinstance(value, dict):
        for child_key, child in value.items():
            child_path = f"{path}.{child_key}" if path else str(child_key)
            if is_forbidden_key(str(child_key)):
                errors[child_path] = NEVER_ACCEPTED
            else:
                errors.update(_findings(child, child_path, str(child_key)))
    elif isinstance(value, (list, tuple)):  # a Python caller's tuple is stored as an array
        for index, child in enumerate(value):
            errors.update(_findings(child, f"{path}.{index}", key))
    elif isinstance(value, str) and key not in NOT_SCANNED and contains_card_number(value):
        errors[path] = CARD_IN_TEXT
    return errors
