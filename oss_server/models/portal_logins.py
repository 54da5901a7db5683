"""Signed-in portal sessions, so that signing out ends a session on the server too."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class PortalSession(Base):
    """One signed-in browser. The cookie holds a random token; only its hash is kept here.

    The session cookie is signed but otherwise self-contained: without this row a copy of
    it taken before signing out would stay valid until its timeouts ran out.
    """

    __tablename__ = "portal_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"),
                                             index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
