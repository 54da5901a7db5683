"""The update API's blueprint: ``/api/v1``, JSON, keyed by API key."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
