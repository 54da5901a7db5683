"""Strict field types and the error-flattening helper shared by every schema."""
from __future__ import annotations

import re

from marshmallow import ValidationError, fields, validate

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_FREE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


# One shopper address as typed: no display name, list, quotes, brackets, spaces or line
# breaks (a comma or CR/LF would add recipients or headers to the status email), and a
# dotted domain of letter-or-digit labels (any script: IDN domains are fine).
_LABEL = r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?"
EMAIL_PATTERN = re.compile(r"[^\s@<>,;:\"()\[\]\\\x00-\x1f\x7f]{1,64}@(?:" + _LABEL
                           + r"\.)+" + _LABEL)
# The same rule for an ASCII address, as character ranges: the Unicode classes above test
# each character's category, which costs every update more (docs/performance.md); tests
# hold the two equal for every ASCII character.
_LOCAL_ASCII = "".join(re.escape(chr(c)) for c in range(0x21, 0x7F)
                       if chr(c) not in '@<>,;:"()[]\\')
_LABEL_ASCII = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_ASCII = re.compile(f"[{_LOCAL_ASCII}]{{1,64}}@(?:{_LABEL_ASCII}\\.)+{_LABEL_ASCII}")
EMAIL_ERROR = "Give one email address (no commas, spaces or line breaks)."
# Row ids are 64-bit: a larger number from a URL names no row (and SQLite cannot bind it).
ID_MAX = 2**63 - 1


def is_row_id(value: int) -> bool:
    """Tell whether *value* can be a row id (1 … 2^63−1) worth looking up."""
    return 0 < value <= ID_MAX


def is_single_address(value: str) -> bool:
    """Tell whether *value* (spaces around it ignored) is one plausible email address."""
    if len(value) > 254:
        return False
    value = value.strip(" ")
    pattern = _EMAIL_ASCII if value.isascii() else EMAIL_PATTERN
    return pattern.fullmatch(value) is not None


class Text(fields.String):
    """A string that refuses control characters (NUL bytes and the like)."""

    def __init__(self, **kwargs):
        # The OpenAPI document states the same rule, so generated clients and fuzzers know
        # which strings the contract admits.
        # A field with a pattern of its own keeps that one: it is the stricter rule.
        super().__init__(**kwargs)
        if not any(isinstance(v, validate.Regexp) for v in self.validators):
            self.metadata = {"pattern": _CONTROL_FREE, **self.metadata}

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if CONTROL_CHARACTERS.search(result):
            raise ValidationError("Control characters are not allowed.")
        return result


class WholeMatch(validate.Regexp):
    """A pattern the whole value must match (``$`` alone would admit a trailing newline)."""

    regex: re.Pattern[str]  # compiled from the text pattern, the only kind taken here

    def __init__(self, regex: str, *, error: str | None = None):
        super().__init__(regex, error=error)

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class StrictInt(fields.Integer):
    """An integer that refuses booleans, floats and numeric strings."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("Not a valid integer.")
        return super()._deserialize(value, attr, data, **kwargs)


def text(max_len: int, min_len: int = 0, **kwargs) -> Text:
    """Return a length-bounded text field."""
    return Text(validate=validate.Length(min=min_len, max=max_len), **kwargs)


def flatten_errors(errors, prefix: str = "") -> dict[str, str]:
    """Turn marshmallow's nested errors into ``{"order.items.0.qty": "message"}``."""
    flat: dict[str, str] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, path))
    elif isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        flat[prefix or "_schema"] = " ".join(errors)
    elif isinstance(errors, list):
        for index, value in enumerate(errors):
            flat.update(flatten_errors(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat[prefix or "_schema"] = str(errors)
    return flat
