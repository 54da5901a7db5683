"""Operational endpoints: liveness, readiness and metrics; request logging and tuning."""
from . import health, metrics_view  # noqa: F401  (routes)
from .blueprint import bp

__all__ = ["bp"]
