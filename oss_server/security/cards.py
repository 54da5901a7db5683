"""Detect payment-card numbers inside free text (PCI: we never accept them)."""
from __future__ import annotations

import re

# Digit runs that may be broken by single spaces or dashes, as cards are printed.
_CANDIDATE = re.compile(r"\d(?:[ -]?\d){12,}")


def luhn_ok(digits: str) -> bool:
    """Tell whether a digit string passes the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def contains_card_number(text: str) -> bool:
    """Tell whether *text* holds a 13–19 digit run (spaces/dashes removed) passing Luhn."""
    for match in _CANDIDATE.finditer(text):
        # A printed card may run into other digits ("4111 1111 1111 1111 2"): try every
        # stretch of whole groups. Not arbitrary windows of one long run: those are not
        # card numbers, and a tenth of any digits pass Luhn.
        groups = re.split(r"[ -]", match.group())
        for start in range(len(groups)):
            digits = ""
            for group in groups[start:]:
                digits += group
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and luhn_ok(digits):
                    return True
    return False
