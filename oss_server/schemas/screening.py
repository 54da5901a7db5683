"""Refuse payment and street-address data before any schema sees it.

The rule lives in :mod:`seom_client.screening`, shared with the client so that both
sides refuse the same values; this module only names it for the server's schemas.
"""
from __future__ import annotations

from seom_client.screening import (
                                   CARD_IN_TEXT,
                                   NEVER_ACCEPTED,
                                   NOT_SCANNED,
                                   contains_card_number,
                                   is_forbidden_key,
                                   screen,
)

__all__ = ["CARD_IN_TEXT", "NEVER_ACCEPTED", "NOT_SCANNED", "contains_card_number",
           "is_forbidden_key", "screen"]
