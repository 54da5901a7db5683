"""Queue emails in the caller's transaction; ``sender`` delivers them later.

An email row is written with the change that causes it and commits or rolls back with
it: an update that rolled back sends nothing, one that committed is never lost.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from ..config import secret_key
from ..models import Order, Store
from ..models.base import rows_changed
from ..models.outbox import (
    FAILED,
    KINDS,
    PASSWORD_RESET,
    PENDING,
    SENT,
    SHOPPER_STATUS,
    OutboxEmail,
)
from ..schemas.fields import is_row_id
from ..storage import DbSession
from .status_email import compose_status_email, shopper_locale
from .tokens import make_status_token

__all__ = [
    "StatusLinks", "failed_notifications", "forget_shopper_recipients", "purge_outbox",
    "queue_email", "queue_status_emails", "retry_notification", "status_url",
]

log = logging.getLogger(__name__)

_SPACE = re.compile(r"\s+")
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")


def _one_line(value: str, limit: int) -> str:
    # Headers never carry a line break (no header injection), and are bounded.
    return _SPACE.sub(" ", value).strip()[:limit]


def queue_email(session: DbSession, *, to: str, subject: str, text: str, html: str | None = None,
                kind: str = PASSWORD_RESET, store_id: int | None = None,
                order_id: int | None = None, from_name: str | None = None,
                reply_to: str | None = None) -> OutboxEmail:
    """Add one email to the outbox in the session's transaction; flush, do not commit."""
    to = (to or "").strip()
    if not _ADDRESS.match(to) or len(to) > 254:
        raise ValueError("not a single email address")
    if kind not in KINDS:
        raise ValueError(f"unknown email kind {kind!r}")
    if reply_to is not None and not _ADDRESS.match(reply_to.strip()):
        reply_to = None
    row = OutboxEmail(kind=kind, recipient=to, subject=_one_line(subject, 300), text=text,
                      html=html, store_id=store_id, order_id=order_id, state=PENDING,
                      attempts=0, from_name=_one_line(from_name, 120) if from_name else None,
                      reply_to=reply_to.strip() if reply_to else None)
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class StatusLinks:
    """What a status link needs: the public base URL and the signing key."""

    base_url: str
    secret_key: str
    token_days: int = 30

    @classmethod
    def from_config(cls, config) -> StatusLinks:
        """Read ``OSS_BASE_URL``, ``SECRET_KEY`` and ``OSS_STATUS_TOKEN_DAYS``."""
        return cls(str(config["OSS_BASE_URL"]), secret_key(config),
                   int(config.get("OSS_STATUS_TOKEN_DAYS", 30)))


def status_url(links: StatusLinks, store: Store, order: Order) -> str:
    """Return the signed, expiring link to *order*'s status page."""
    token = make_status_token(links.secret_key, store.id, order.id)
    return f"{links.base_url.rstrip('/')}/s/{store.slug}/o/{token}"


def queue_status_emails(session: DbSession, store: Store, notices, links: StatusLinks) -> int:
    """Queue one shopper email per status change that asked for it; return how many.

    *notices* are ``StatusChangeNotice`` objects from ``apply_updates``: each is already an
    applied update with ``notify_customer`` set whose order label changed, so the same
    label twice yields one notice and so one email.
    """
    if not store.shopper_emails or not notices:
        return 0
    # New orders get their id at flush; the status link names the order by id.
    session.flush()
    queued = 0
    for notice in notices:
        if not notice.order.email:
            continue
        # Each email in its own savepoint: one that cannot be written (an address the
        # outbox refuses, a failing template) is skipped and logged, while the batch's
        # snapshots and the other emails stand.
        try:
            with session.begin_nested():
                queued += _queue_one(session, store, notice, links)
        except Exception:  # noqa: BLE001 - one email must never fail the whole batch
            log.exception("shopper email for order %s of store %s not queued",
                          notice.order.order_number, store.slug)
    return queued


def _queue_one(session: DbSession, store: Store, notice, links: StatusLinks) -> int:
    order = notice.order
    email = compose_status_email(store, order, notice.update,
                                 status_url=status_url(links, store, order),
                                 locale=shopper_locale(store, order),
                                 link_days=links.token_days)
    if email is None:
        return 0
    queue_email(session, to=order.email, subject=email.subject, text=email.text,
                html=email.html, kind=SHOPPER_STATUS, store_id=store.id, order_id=order.id,
                from_name=store.name, reply_to=store.support_email)
    return 1


def forget_shopper_recipients(session: DbSession, store_id: int) -> int:
    """Drop a store's shopper emails, queued or sent: no address outlives the setting."""
    result = session.execute(delete(OutboxEmail).where(
        OutboxEmail.store_id == store_id, OutboxEmail.kind == SHOPPER_STATUS)
        .execution_options(synchronize_session=False))
    return rows_changed(result)


def failed_notifications(session: DbSession, store: Store, limit: int = 50) -> list[dict]:
    """Return the store's shopper emails that could not be delivered, newest first.

    For the merchant's portal: the order and the server's answer, not the address.
    """
    rows = session.execute(
        select(OutboxEmail, Order.order_number)
        .outerjoin(Order, Order.id == OutboxEmail.order_id)
        .where(OutboxEmail.store_id == store.id, OutboxEmail.kind == SHOPPER_STATUS,
               OutboxEmail.state == FAILED)
        .order_by(OutboxEmail.id.desc()).limit(limit)
    )
    return [{"id": row.id, "order_number": number, "subject": row.subject,
             "attempts": row.attempts, "error": row.last_error, "created_at": row.created_at}
            for row, number in rows]


def retry_notification(session: DbSession, store: Store, outbox_id: int,
                       now: datetime) -> bool:
    """Queue a failed shopper email of *store* again; False when there is no such email."""
    if not is_row_id(outbox_id):
        return False
    result = session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == outbox_id, OutboxEmail.store_id == store.id,
               OutboxEmail.state == FAILED)
        .values(state=PENDING, attempts=0, next_attempt_at=now, last_error=None)
        .execution_options(synchronize_session=False))
    session.flush()
    return bool(rows_changed(result))


def purge_outbox(session: DbSession, now: datetime, keep_days: int) -> int:
    """Delete sent and failed emails older than *keep_days*; return how many."""
    cutoff = now - timedelta(days=keep_days)
    result = session.execute(delete(OutboxEmail).where(
        OutboxEmail.state.in_((SENT, FAILED)), OutboxEmail.created_at < cutoff)
        .execution_options(synchronize_session=False))
    return rows_changed(result)
