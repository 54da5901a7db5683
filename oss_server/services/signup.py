"""Opening an account from the sign-up form without telling whether the email has one.

Both outcomes look alike from the form: nobody is signed in, one email goes to the
address typed, and the password is hashed once. A new address gets its account and a
welcome email; an address that already has an account gets an email telling its owner
so (with the ways back in), and the account is left as it is. Only the mailbox's owner
learns which case it was.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..models import Merchant
from ..models.outbox import ACCOUNT_NOTICE
from ..storage import DbSession
from .accounts import PLAN_TRIAL, AccountError, create_merchant, get_merchant_by_email, trial_end
from .email_outbox import queue_email
from .passwords import check_policy, hash_password


@dataclass(frozen=True)
class Links:
    """Where the emails send the merchant: the sign-in page and the password reset."""

    sign_in: str
    reset: str


WELCOME_TEXT = """Welcome to Order Status.

Your account is ready, on a trial until {trial:%B %-d, %Y}. Sign in with this email
address and the password you chose:

{sign_in}
"""

ALREADY_TEXT = """Someone (perhaps you) tried to create an Order Status account with this
email address. It already has an account, so nothing was changed.

Sign in here:

{sign_in}

Forgot the password? Ask for a reset link here:

{reset}

If it was not you, you need not do anything: your account and its password stay as
they are.
"""


def sign_up(session: DbSession, email: str, password: str, today: date, trial_days: int,
            links: Links) -> Merchant | None:
    """Open a trial account for *email*, or tell its owner that it already has one.

    Returns the new merchant, or None when the email had an account. Raises
    ``AccountError`` / ``PasswordPolicyError`` for what the form can say without
    looking at accounts (a malformed email, a password too short). Flushes, does not
    commit. The caller answers the same either way.
    """
    check_policy(password)
    existing = get_merchant_by_email(session, email)
    if existing is None:
        trial = trial_end(today, trial_days)
        try:
            merchant = create_merchant(session, email, password, paid_through=trial,
                                       plan=PLAN_TRIAL)
        except AccountError:
            # Its own check found the account a concurrent sign-up made meanwhile.
            existing = get_merchant_by_email(session, email)
            if existing is None:
                raise
    if existing is not None:
        hash_password(password)  # the work a new account costs, so both take as long
        queue_email(session, to=existing.email, kind=ACCOUNT_NOTICE,
                    subject="You already have an Order Status account",
                    text=ALREADY_TEXT.format(sign_in=links.sign_in, reset=links.reset))
        return None
    queue_email(session, to=merchant.email, kind=ACCOUNT_NOTICE,
                subject="Your Order Status account is ready",
                text=WELCOME_TEXT.format(trial=trial, sign_in=links.sign_in))
    return merchant
