"""Shopper pages: ``/s/<slug>/`` lookup form and order status pages."""
from flask import Blueprint

bp = Blueprint("shop", __name__, url_prefix="/s/<slug>")

from . import headers, views  # noqa: E402,F401  (hooks and routes register on bp)
