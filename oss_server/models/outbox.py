"""The outbox: emails queued in the same transaction as their cause, sent later."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow

# Row states. pending → claimed → sent; a temporary failure goes back to pending with a
# later next_attempt_at; a permanent one (or too many attempts) ends in failed.
PENDING, CLAIMED, SENT, FAILED = "pending", "claimed", "sent", "failed"
STATES = (PENDING, CLAIMED, SENT, FAILED)

SHOPPER_STATUS, PASSWORD_RESET = "shopper_status", "password_reset"
# To a merchant about their account (sign-up: welcome, or "you already have an account").
ACCOUNT_NOTICE = "account_notice"
KINDS = (SHOPPER_STATUS, PASSWORD_RESET, ACCOUNT_NOTICE)


class OutboxEmail(Base):
    """One email to send; its id makes the Message-ID, so a resend is recognisable."""

    __tablename__ = "outbox"
    __table_args__ = (
        # The sender's scan: due pending rows and expired claims.
        Index("ix_outbox_state_next_attempt", "state", "next_attempt_at"),
        Index("ix_outbox_store_state", "store_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    # Shown as the From display name and used as Reply-To: the store's, for shopper emails.
    from_name: Mapped[str | None] = mapped_column(String(120))
    reply_to: Mapped[str | None] = mapped_column(String(254))
    # Erasing a store or an order erases its emails too, sent or not.
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
