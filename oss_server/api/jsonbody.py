"""Strict JSON for request bodies: UTF-8 text, standard JSON only, no lone surrogates."""
from __future__ import annotations

import json
import re

from flask import current_app, request

from ..errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

# "\ud800" is legal JSON text but no string Python can encode, store or log as UTF-8.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _not_json(name: str):
    raise ValueError(f"{name} is not a JSON value")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    return value


def parse_json(raw: bytes) -> object:
    """Parse *raw*; ValueError unless it is UTF-8 standard JSON (RecursionError if too deep)."""
    # Decode first: json.loads(bytes) would also take UTF-16 and UTF-32.
    value = json.loads(raw.decode("utf-8"), parse_constant=_not_json,
                       parse_float=_finite)
    if _SURROGATE_ESCAPE.search(raw):
        # Surrogate pairs (escaped emoji) are fine; a lone one fails this encode.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    return value


def read_raw_body(limit: int | None = None) -> bytes:
    """Return the raw JSON body, enforcing type and size first; 413/415 otherwise."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType()
    limit = limit or current_app.config["OSS_MAX_API_BODY"]
    if (request.content_length or 0) > limit:
        raise PayloadTooLarge(f"The body exceeds {limit} bytes.")
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise PayloadTooLarge(f"The body exceeds {limit} bytes.")
    return raw


def parse_body(raw: bytes) -> object:
    """Return the parsed JSON of *raw*; 400 when it is not valid JSON."""
    try:
        return parse_json(raw)
    except (ValueError, RecursionError):
        raise BadRequest("The body is not valid JSON (UTF-8).") from None
