"""The JSON API for order-manager installs and carts (``/api/v1``), keyed by API key."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import orders, updates, openapi, store  # noqa: E402,F401  (routes register on bp)
