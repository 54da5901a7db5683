"""Merchant portal: ``/account/...``."""
from . import account, activity, auth, keys, labels, orders, stores  # noqa: F401  (routes)
from .blueprint import bp
from .landing import landing_bp

__all__ = ["bp", "landing_bp"]
