"""Signing a merchant in: password, optional second factor, throttling."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ..models import Merchant
from . import throttle, twofactor
from .accounts import get_merchant_by_email
from .passwords import MAX_LENGTH, verify_password

# One message for an unknown email and a wrong password: it must not tell them apart.
FAILURE_MESSAGE = "Incorrect email or password."


@dataclass
class Attempt:
    """Outcome of a sign-in step: the merchant on success, else how long to wait (maybe 0)."""

    merchant: Merchant | None = None
    wait_seconds: int = 0


def _keys(email: str, address: str | None) -> list[str]:
    return [throttle.account_key(email), throttle.address_key(address)]


def _fail(session: Session, email: str, address: str | None, now: datetime | None) -> Attempt:
    account, ip = _keys(email, address)
    throttle.record_failure(session, account, throttle.ACCOUNT, now)
    throttle.record_failure(session, ip, throttle.ADDRESS, now)
    return Attempt()


def check_password(session: Session, email: str, password: str, address: str | None,
                   now: datetime | None = None) -> Attempt:
    """Check an email and password, counting failures per account and per address.

    Unknown emails are hashed against a dummy and counted like real accounts, so both
    cases take the same time, give the same answer and are throttled the same way.
    """
    wait = throttle.wait_seconds(session, _keys(email, address), now)
    if wait:
        return Attempt(wait_seconds=wait)
    merchant = get_merchant_by_email(session, email)
    ok, new_hash = verify_password(merchant.password_hash if merchant else None,
                                   password[:MAX_LENGTH])
    if not ok or merchant is None:
        return _fail(session, email, address, now)
    if new_hash:
        merchant.password_hash = new_hash
    if merchant.totp_secret is None:
        throttle.clear(session, throttle.account_key(email))
    session.flush()
    return Attempt(merchant=merchant)


def check_second_factor(session: Session, merchant: Merchant, code: str, address: str | None,
                        now: datetime | None = None) -> Attempt:
    """Check a TOTP or recovery code after the password; failures count like wrong passwords."""
    wait = throttle.wait_seconds(session, _keys(merchant.email, address), now)
    if wait:
        return Attempt(wait_seconds=wait)
    if not twofactor.verify(session, merchant, code):
        return _fail(session, merchant.email, address, now)
    throttle.clear(session, throttle.account_key(merchant.email))
    return Attempt(merchant=merchant)
