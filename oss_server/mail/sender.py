"""Deliver the outbox: claim due rows, send each, record the outcome.

Guarantees, and the one window left open:

* A row is claimed (state, claim token, claim deadline) in a committed UPDATE before any
  SMTP conversation starts, so several senders side by side never send the same row.
* A sender killed while holding claims loses nothing: once the deadline passes, another
  pass claims the rows again.
* Killed after the SMTP server accepted a message but before the row was marked sent, the
  email goes out again. The resend carries the same ``Message-ID`` (derived from the row),
  so mail systems and readers can recognise the duplicate.

The sender owns its transactions (unlike the service layer): each claim and each outcome
is committed at once, because the guarantees above depend on exactly when that happens.
"""
from __future__ import annotations

import logging
import random
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

from sqlalchemy import and_, or_, select, update

from ..models import utcnow
from ..models.base import rows_changed
from ..models.outbox import CLAIMED, FAILED, PENDING, SENT, OutboxEmail
from ..storage import DbSession
from .transport import DeliveryError, classify

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SenderSettings:
    mail_from: str = "Order Status <no-reply@localhost>"
    batch_size: int = 50
    claim_seconds: int = 300
    max_attempts: int = 10
    retry_base_s: int = 60
    retry_max_s: int = 3600

    @classmethod
    def from_config(cls, config) -> SenderSettings:
        """Read the ``OSS_MAIL_*`` settings."""
        return cls(mail_from=str(config["OSS_MAIL_FROM"]),
                   batch_size=int(config["OSS_MAIL_BATCH_SIZE"]),
                   claim_seconds=int(config["OSS_MAIL_CLAIM_SECONDS"]),
                   max_attempts=int(config["OSS_MAIL_MAX_ATTEMPTS"]),
                   retry_base_s=int(config["OSS_MAIL_RETRY_BASE_S"]),
                   retry_max_s=int(config["OSS_MAIL_RETRY_MAX_S"]))


@dataclass
class PassResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.sent or self.retrying or self.failed)


def _jitter() -> float:
    return random.uniform(0.8, 1.2)


def backoff_seconds(attempts: int, base: int, cap: int, jitter=_jitter) -> float:
    """Return the wait before attempt *attempts* + 1: doubling from *base*, capped, jittered."""
    return min(cap, base * 2 ** max(attempts - 1, 0)) * jitter()


def message_id(row: OutboxEmail, domain: str) -> str:
    """Return the row's Message-ID: the same on every attempt, distinct across databases' rows."""
    stamp = row.created_at.strftime("%Y%m%d%H%M%S")
    return f"<outbox.{row.id}.{stamp}@{domain}>"


def build_message(row: OutboxEmail, settings: SenderSettings, now: datetime) -> EmailMessage:
    """Return the email for one outbox row, headers included."""
    default_name, address = parseaddr(settings.mail_from)
    domain = address.rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["From"] = formataddr((row.from_name or default_name, address))
    message["To"] = row.recipient
    if row.reply_to:
        message["Reply-To"] = row.reply_to
    message["Subject"] = row.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(row, domain)
    # Tell autoresponders (vacation replies and the like) not to answer.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.text)
    if row.html:
        message.add_alternative(row.html, subtype="html")
    return message


def _due(now: datetime):
    return or_(and_(OutboxEmail.state == PENDING, OutboxEmail.next_attempt_at <= now),
               and_(OutboxEmail.state == CLAIMED, OutboxEmail.claimed_until <= now))


def claim_due(session: DbSession, settings: SenderSettings,
              now: datetime) -> tuple[str, list[OutboxEmail]]:
    """Claim up to a batch of due rows for this sender; commit; return (token, rows)."""
    token = secrets.token_hex(16)
    # A row whose sender died too often (a message that crashes it, say) stops here.
    session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.state == CLAIMED, OutboxEmail.claimed_until <= now,
               OutboxEmail.attempts >= settings.max_attempts)
        .values(state=FAILED, claim_token=None, claimed_until=None,
                last_error="the sender stopped while delivering this email too many times")
        .execution_options(synchronize_session=False))
    candidates = (select(OutboxEmail.id).where(_due(now)).order_by(OutboxEmail.id)
                  .limit(settings.batch_size).scalar_subquery())
    # The due condition is repeated on the row being updated: on PostgreSQL a second
    # sender that read the same candidates blocks on the row lock, then re-checks the
    # condition against the committed claim and skips the row. SQLite runs one writer
    # at a time, so the statement is atomic there as it stands.
    session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(candidates), _due(now))
        .values(state=CLAIMED, claim_token=token, attempts=OutboxEmail.attempts + 1,
                claimed_until=now + timedelta(seconds=settings.claim_seconds))
        .execution_options(synchronize_session=False))
    session.commit()
    rows = list(session.scalars(select(OutboxEmail).where(OutboxEmail.claim_token == token)
                                .order_by(OutboxEmail.id)))
    return token, rows


def _finish(session: DbSession, row_id: int, token: str, **values) -> bool:
    # Only the holder of the claim records an outcome; a sender whose claim expired and
    # was taken over by another must not overwrite that sender's result.
    result = session.execute(
        update(OutboxEmail).where(OutboxEmail.id == row_id, OutboxEmail.claim_token == token)
        .values(claim_token=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False))
    session.commit()
    return bool(rows_changed(result))


def _redacted(error: DeliveryError, recipient: str) -> str:
    # Servers often quote the address they refused; the log and the merchant's list of
    # failures get the answer without it.
    return re.sub(re.escape(recipient), "<recipient>", str(error), flags=re.IGNORECASE)[:1000]


def _record_failure(session, row, token, error: DeliveryError, settings, now, result) -> None:
    message = _redacted(error, row.recipient)
    if error.temporary and row.attempts < settings.max_attempts:
        wait = backoff_seconds(row.attempts, settings.retry_base_s, settings.retry_max_s)
        _finish(session, row.id, token, state=PENDING, last_error=message,
                next_attempt_at=now + timedelta(seconds=wait))
        result.retrying += 1
        log.warning("email %s not delivered (attempt %s), retrying in %.0fs: %s",
                    row.id, row.attempts, wait, message)
    else:
        if error.temporary:
            message = f"gave up after {row.attempts} attempts: {message}"
        _finish(session, row.id, token, state=FAILED, last_error=message)
        result.failed += 1
        log.warning("email %s failed for good: %s", row.id, message)
    result.errors.append(message)


def send_batch(session: DbSession, transport, settings: SenderSettings,
               clock=utcnow) -> PassResult | None:
    """Claim and send one batch; None when nothing was due."""
    token, rows = claim_due(session, settings, clock())
    if not rows:
        return None
    result = PassResult()
    _, sender_address = parseaddr(settings.mail_from)
    for index, row in enumerate(rows):
        now = clock()
        if row.claimed_until is None or now >= row.claimed_until:
            # Our claim ran out (a very slow server): leave the rest to whoever claims them
            # next rather than risk sending alongside them.
            log.warning("claim expired with %s emails unsent; they will be retried",
                        len(rows) - index)
            break
        try:
            transport.send(build_message(row, settings, now), sender_address, row.recipient)
        except Exception as exc:  # classify() decides; nothing is swallowed silently
            _record_failure(session, row, token, classify(exc), settings, clock(), result)
            continue
        if _finish(session, row.id, token, state=SENT, sent_at=clock(), last_error=None):
            result.sent += 1
        else:
            log.warning("email %s was sent after its claim was taken over; the resend "
                        "carries the same Message-ID", row.id)
    return result


def send_pending(session: DbSession, transport, settings: SenderSettings,
                 clock=utcnow) -> PassResult:
    """Send everything due now, batch after batch; return the totals."""
    total = PassResult()
    try:
        while (batch := send_batch(session, transport, settings, clock)) is not None:
            total.sent += batch.sent
            total.retrying += batch.retrying
            total.failed += batch.failed
            total.errors += batch.errors
            if not batch.sent and not batch.failed and batch.retrying:
                # Everything in the batch failed temporarily (server down?): stop for now,
                # the rows wait out their backoff anyway.
                break
    finally:
        transport.close()
    return total


def watch(session: DbSession, transport, settings: SenderSettings, interval: float,
          should_stop, report=lambda result: None, clock=utcnow) -> None:
    """Send due emails every *interval* seconds until ``should_stop()`` is true."""
    while not should_stop():
        try:
            result = send_pending(session, transport, settings, clock)
            if result:
                report(result)
        except Exception:
            # Database or configuration trouble: keep the service alive and try again.
            session.rollback()
            log.exception("sending emails failed; trying again in %ss", interval)
        finally:
            session.close()
        deadline = time.monotonic() + interval
        while not should_stop() and time.monotonic() < deadline:
            time.sleep(min(0.2, interval))
