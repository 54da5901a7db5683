"""The JSON API for order-manager installs and carts (``/api/v1``), keyed by API key."""
from . import openapi, orders, store, updates  # noqa: F401  (routes)
from .blueprint import bp

__all__ = ["bp"]
