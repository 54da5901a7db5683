"""Password changes, emailed reset links and closing an account."""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, update

from ..models import Merchant, OutboxEmail
from ..models.base import rows_changed
from ..models.outbox import ACCOUNT_NOTICE, PASSWORD_RESET
from ..storage import DbSession
from . import portal_logins, signin, throttle
from .accounts import AccountError, delete_merchant, get_merchant_by_email
from .email_outbox import queue_email
from .passwords import check_policy, hash_password

RESET_MAX_AGE_S = 3600
_RESET_SALT = "oss.password-reset.v1"


def set_password(session: DbSession, merchant: Merchant, new_password: str) -> bool:
    """Set a new password and end every session signed in with the old one.

    Returns False, changing nothing, when the password changed since *merchant* was read
    (a reset link used by two requests at once: only the first sets its password).
    """
    check_policy(new_password)
    # One conditional update: of concurrent requests that read the same old hash, only one
    # changes the row; the others wait for its lock, then find the hash changed.
    # Sessions carry the version they were opened with; older ones stop being accepted.
    changed = rows_changed(session.execute(
        update(Merchant)
        .where(Merchant.id == merchant.id, Merchant.password_hash == merchant.password_hash)
        .values(password_hash=hash_password(new_password),
                session_version=func.coalesce(Merchant.session_version, 1) + 1)
        .execution_options(synchronize_session=False))) == 1
    session.expire(merchant, ["password_hash", "session_version"])
    if not changed:
        return False
    portal_logins.close_all(session, merchant)
    throttle.clear(session, throttle.account_key(merchant.email))
    session.flush()
    return True


def change_password(session: DbSession, merchant: Merchant, current: str, new_password: str,
                    address: str | None = None) -> None:
    """Change the password after checking the current one (throttled like signing in)."""
    check_policy(new_password)  # first: a refused new password must not cost a check
    try:
        signin.confirm_password(session, merchant, current, address)
    except AccountError:
        raise AccountError("The current password is not correct.") from None
    if not set_password(session, merchant, new_password):
        raise AccountError("The password was changed at the same moment elsewhere. "
                           "Sign in again with the new one.")


def _fingerprint(secret_key: str, merchant: Merchant) -> str:
    # Changes with the password hash, so a link stops working once it has been used.
    digest = hmac.new(secret_key.encode(), merchant.password_hash.encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def make_reset_token(secret_key: str, merchant: Merchant) -> str:
    """Return a signed reset token, valid for an hour and only until the password changes."""
    serializer = URLSafeTimedSerializer(secret_key, salt=_RESET_SALT)
    return serializer.dumps([merchant.id, _fingerprint(secret_key, merchant)])


def read_reset_token(session: DbSession, secret_key: str, token: str,
                     max_age: int = RESET_MAX_AGE_S) -> Merchant | None:
    """Return the merchant a reset token is for; None if forged, expired or already used."""
    serializer = URLSafeTimedSerializer(secret_key, salt=_RESET_SALT)
    try:
        merchant_id, fingerprint = serializer.loads(token, max_age=max_age)
        merchant = session.get(Merchant, int(merchant_id))
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        return None
    if merchant is None or not hmac.compare_digest(_fingerprint(secret_key, merchant),
                                                   str(fingerprint)):
        return None
    return merchant


RESET_TEXT = """Someone asked to reset the password of your Order Status account.

To choose a new password, open this link within the next hour:

{link}

The link works once. If you did not ask for it, ignore this email: your password stays
as it is.
"""


def send_reset_link(session: DbSession, secret_key: str, email: str,
                    link_for: Callable[[str], str]) -> bool:
    """Queue a reset email when *email* has an account; return whether one was queued.

    The caller answers the same either way, so the form does not reveal accounts.
    """
    merchant = get_merchant_by_email(session, email)
    if merchant is None:
        return False
    link = link_for(make_reset_token(secret_key, merchant))
    queue_email(session, to=merchant.email, subject="Reset your Order Status password",
                text=RESET_TEXT.format(link=link), kind=PASSWORD_RESET)
    return True


def close_account(session: DbSession, merchant: Merchant, password: str,
                  address: str | None = None) -> None:
    """Erase the merchant with every store, key and order, after checking the password.

    The password is checked as :func:`signin.confirm_password` does (throttled).
    """
    signin.confirm_password(session, merchant, password, address)
    # Reset and account emails name the merchant's address and belong to no store: erase
    # them too.
    session.execute(delete(OutboxEmail).where(
        OutboxEmail.recipient == merchant.email,
        OutboxEmail.kind.in_((PASSWORD_RESET, ACCOUNT_NOTICE))))
    delete_merchant(session, merchant)
