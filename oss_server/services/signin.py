"""Signing in (password, optional second factor) and re-entering the password, throttled."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..models import Merchant
from ..storage import DbSession
from . import throttle, twofactor
from .accounts import AccountError, get_merchant_by_email
from .passwords import MAX_LENGTH, verify_password

# One message for an unknown email and a wrong password: it must not tell them apart.
FAILURE_MESSAGE = "Incorrect email or password."


@dataclass
class Attempt:
    """Outcome of a sign-in step: the merchant on success, else how long to wait (maybe 0)."""

    merchant: Merchant | None = None
    wait_seconds: int = 0


class TooManyAttempts(Exception):
    """A throttle refused the attempt before its secret was checked."""

    def __init__(self, wait_seconds: int):
        super().__init__(f"wait {wait_seconds}s")
        self.wait_seconds = wait_seconds


def _counted(email: str, address: str | None) -> dict[str, throttle.Policy]:
    return {throttle.account_key(email): throttle.ACCOUNT,
            throttle.address_key(address): throttle.ADDRESS}


def check_password(session: DbSession, email: str, password: str, address: str | None,
                   now: datetime | None = None) -> Attempt:
    """Check an email and password, counting failures per account and per address.

    The attempt is counted before the hash is checked (see :mod:`.throttle`). Unknown
    emails are hashed against a dummy and counted like real accounts, so both cases take
    the same time, give the same answer and are throttled the same way.
    """
    held = throttle.begin_attempt(session, _counted(email, address), now)
    if held.wait_seconds:
        return Attempt(wait_seconds=held.wait_seconds)
    merchant = get_merchant_by_email(session, email)
    ok, new_hash = verify_password(merchant.password_hash if merchant else None,
                                   password[:MAX_LENGTH])
    if not ok or merchant is None:
        return Attempt()
    if new_hash:
        merchant.password_hash = new_hash
    # With a second factor the sign-in is not done yet: only this attempt's count is
    # undone, and wrong codes keep adding to the account's failures.
    throttle.succeeded(session, held,
                       () if merchant.totp_secret else (throttle.account_key(email),))
    return Attempt(merchant=merchant)


def check_second_factor(session: DbSession, merchant: Merchant, code: str, address: str | None,
                        now: datetime | None = None) -> Attempt:
    """Check a TOTP or recovery code after the password; failures count like wrong passwords."""
    held = throttle.begin_attempt(session, _counted(merchant.email, address), now)
    if held.wait_seconds:
        return Attempt(wait_seconds=held.wait_seconds)
    if not twofactor.verify(session, merchant, code):
        return Attempt()
    throttle.succeeded(session, held, (throttle.account_key(merchant.email),))
    return Attempt(merchant=merchant)


def confirm_password(session: DbSession, merchant: Merchant, password: str,
                     address: str | None, now: datetime | None = None) -> None:
    """Check the password a signed-in merchant gives again, throttled like signing in.

    Raises :class:`TooManyAttempts` when a throttle refuses, :class:`AccountError` when
    the password is wrong.
    """
    held = throttle.begin_attempt(session, _counted(merchant.email, address), now)
    if held.wait_seconds:
        raise TooManyAttempts(held.wait_seconds)
    ok, _ = verify_password(merchant.password_hash, password[:MAX_LENGTH])
    if not ok:
        raise AccountError("The password is not correct.")
    throttle.succeeded(session, held, (throttle.account_key(merchant.email),))
