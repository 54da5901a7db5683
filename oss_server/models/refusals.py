"""API requests refused before any update was read, counted per store, hour, cause and key."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class ApiRefusal(Base):
    """How many requests of one store were refused in one hour for one cause (and key).

    A counter, not a log: a misconfigured order manager retrying a revoked key all day
    adds to one row per hour instead of writing a row per request.
    """

    __tablename__ = "api_refusals"

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    cause: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The key id the request named ("" when the cause concerns no single key).
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True, default="")
    count: Mapped[int] = mapped_column(Integer, default=0)
