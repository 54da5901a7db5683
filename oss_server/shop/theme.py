"""A store's accent colour, applied only where it keeps text readable (WCAG AA)."""
from __future__ import annotations

from ..security.urls import safe_colour

DARK_TEXT = "#111827"
WHITE = "#ffffff"


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def theme_css(accent: str | None) -> str:
    """Return CSS for the store's header, links and buttons in its accent colour."""
    accent = safe_colour(accent)  # a row stored before the rule could hold any CSS
    if not accent:
        return "/* default colours */\n"
    if contrast(accent, WHITE) >= 4.5:
        # Readable as white-on-accent and as accent-on-white: use it everywhere.
        return f":root {{ --accent: {accent}; }}\n"
    if contrast(accent, DARK_TEXT) < 4.5:
        return "/* accent too low in contrast for any text: default colours */\n"
    # Too light for white text or links: only the header takes it, with dark text.
    return (f".site-header {{ background: {accent}; color: {DARK_TEXT}; }}\n"
            f".site-header a {{ color: {DARK_TEXT}; }}\n")
