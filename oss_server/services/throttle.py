"""Sign-in throttling per account and per client address, kept in the database.

The counters live in a table, not in process memory, so the limits hold across every
worker process and server. Unknown emails are counted exactly like real accounts, so a
delay confirms nothing about whether an account exists.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import LoginThrottle, utcnow


@dataclass(frozen=True)
class Policy:
    """How failures of one kind of key turn into waiting time."""

    free_failures: int      # failures allowed before any delay
    window: timedelta       # counters start afresh once this has passed since the first failure
    exponential: bool       # account: 1 s, 2 s, 4 s … capped; address: locked to the window's end
    max_delay: timedelta = timedelta(minutes=15)


ACCOUNT = Policy(free_failures=5, window=timedelta(hours=24), exponential=True)
ADDRESS = Policy(free_failures=30, window=timedelta(minutes=15), exponential=False)
# Password-reset requests per hour. A counter locks once it passes free_failures, and the
# request that locks it is refused: so the allowance plus one.
RESET_EMAILS_PER_ACCOUNT = 3
RESET_REQUESTS_PER_ADDRESS = 20
RESET_PER_ACCOUNT = Policy(free_failures=RESET_EMAILS_PER_ACCOUNT + 1,
                           window=timedelta(hours=1), exponential=False)
RESET_PER_ADDRESS = Policy(free_failures=RESET_REQUESTS_PER_ADDRESS + 1,
                           window=timedelta(hours=1), exponential=False)


def account_key(email: str) -> str:
    """Key of the per-account counter: the email as typed, trimmed and lower-cased."""
    return "account:" + email.strip().lower()[:280]


def address_key(address: str | None) -> str:
    """Key of the per-address counter."""
    return "ip:" + (address or "unknown")[:200]


def reset_keys(email: str, address: str | None) -> tuple[str, str]:
    """Keys of the password-reset counters: apart from sign-in failures."""
    return "reset:" + account_key(email), "reset:" + address_key(address)


def count_reset_request(session: Session, email: str, address: str | None) -> tuple[int, int]:
    """Count one reset request; return the (account, address) waits it ran into (0: none)."""
    account, ip = reset_keys(email, address)
    record_failure(session, account, RESET_PER_ACCOUNT)
    record_failure(session, ip, RESET_PER_ADDRESS)
    return wait_seconds(session, [account]), wait_seconds(session, [ip])


def forget_account(session: Session, email: str) -> None:
    """Erase the counters kept under an account's email (it is personal data)."""
    keys = [account_key(email), reset_keys(email, None)[0]]
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))


def wait_seconds(session: Session, keys: list[str], now: datetime | None = None) -> int:
    """Return how long the caller must wait before trying again (0: go ahead)."""
    now = now or utcnow()
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))
    waits = [(row.locked_until - now).total_seconds() for row in rows
             if row.locked_until is not None and row.locked_until > now]
    return int(max(waits, default=0) + 0.999)


def _row_for_update(session: Session, key: str, now: datetime) -> LoginThrottle:
    query = select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
    row = session.scalar(query)
    if row is not None:
        return row
    try:
        # Two processes may create the same key at once: the loser re-reads the winner's row.
        with session.begin_nested():
            row = LoginThrottle(key=key, failures=0, window_start=now)
            session.add(row)
    except IntegrityError:
        row = session.scalar(query.execution_options(populate_existing=True))
    return row


def record_failure(session: Session, key: str, policy: Policy,
                   now: datetime | None = None) -> None:
    """Count one failed sign-in against *key* and lock it when the policy says so."""
    now = now or utcnow()
    row = _row_for_update(session, key, now)
    if now - row.window_start > policy.window:
        row.failures, row.window_start, row.locked_until = 0, now, None
    row.failures += 1
    over = row.failures - policy.free_failures
    if over >= 0 and policy.exponential:
        row.locked_until = now + min(timedelta(seconds=2 ** min(over, 20)), policy.max_delay)
    elif over >= 0:
        row.locked_until = row.window_start + policy.window
    session.flush()


def clear(session: Session, key: str) -> None:
    """Forget the failures of *key* (after a successful sign-in or password reset)."""
    row = session.get(LoginThrottle, key)
    if row is not None:
        session.delete(row)
        session.flush()
