"""Shopper pages: ``/s/<slug>/`` lookup form and order status pages."""
from . import api, views  # noqa: F401  (routes)
from .blueprint import api_bp, bp

__all__ = ["api_bp", "bp"]
