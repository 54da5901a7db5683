"""The operations blueprint: health probes and metrics, outside any URL prefix."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ops", __name__)
