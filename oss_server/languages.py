"""The languages shopper pages, label wording and emails come in: one list for all of them."""
from __future__ import annotations

# (code, the language's own name), in the switcher's order. English comes first: it is
# the fallback wherever a shopper's language is unknown.
LANGUAGE_NAMES: tuple[tuple[str, str], ...] = (
    ("en", "English"), ("es", "Español"), ("fr", "Français"), ("de", "Deutsch"))
LANGUAGES: tuple[str, ...] = tuple(code for code, _ in LANGUAGE_NAMES)
