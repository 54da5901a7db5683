"""Optional TOTP two-factor sign-in, with single-use recovery codes."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

import pyotp
import segno
from markupsafe import Markup
from sqlalchemy import Text, cast, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from ..models import Merchant
from ..models.base import rows_changed
from ..storage import DbSession

RECOVERY_CODE_COUNT = 10
ISSUER = "Order Status"


def enrolment_secret(secret_key: str, merchant: Merchant, nonce: str) -> str:
    """Return the TOTP secret offered to *merchant* during the enrolment named by *nonce*.

    Derived with the app's secret key, so the session cookie carries only the nonce: a
    cookie is signed, not encrypted, and a copy of it must not hand over the secret of
    the authenticator about to be enrolled.
    """
    message = f"oss.totp-enrolment.v1:{merchant.id}:{nonce}".encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode()  # 160 bits, 32 base32 characters


def provisioning_uri(secret: str, email: str) -> str:
    """Return the ``otpauth://`` URI an authenticator app reads."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def provisioning_qr(uri: str) -> Markup:
    """Return the provisioning URI as an inline SVG QR code (no script, no data: URL)."""
    # Inline markup, not an <img>: the pages' CSP admits images from 'self' only.
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4, dark="#000", light="#fff",
                                                svgclass="qr", lineclass=None)
    return Markup(svg)


def matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """Return the time step whose code *code* is, allowing one step of drift either way."""
    digits = "".join(ch for ch in code if ch.isdigit())
    if len(digits) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if at is None else at) // totp.interval)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def _accept_step(session: DbSession, merchant: Merchant, step: int | None) -> bool:
    # A code is good once: someone who watched it being typed (or phished it) cannot
    # reuse it within its 90-second window. Steps only move forward, and the move is one
    # conditional update: of concurrent sign-ins with the same code, only one changes the
    # row (the others wait for its lock, then find the step taken).
    if step is None or step <= (merchant.totp_last_step or -1):
        return False
    won = rows_changed(session.execute(
        update(Merchant)
        .where(Merchant.id == merchant.id,
               or_(Merchant.totp_last_step.is_(None), Merchant.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False))) == 1
    if won:
        set_committed_value(merchant, "totp_last_step", step)
    return won


def _normalise_recovery(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def hash_recovery_code(code: str) -> str:
    """The stored form of a recovery code, as typed in any case and grouping."""
    # Recovery codes carry 50 random bits and are single use: a fast hash suffices.
    return hashlib.sha256(_normalise_recovery(code).encode()).hexdigest()


def _new_recovery_codes() -> list[str]:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(alphabet) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def enable(session: DbSession, merchant: Merchant, secret: str, code: str) -> list[str] | None:
    """Turn two-factor sign-in on once *code* proves the app holds *secret*.

    Return the recovery codes (shown once; only their hashes are kept), or None when the
    code does not match.
    """
    step = matching_step(secret, code)
    if step is None:
        return None
    merchant.totp_secret = secret
    merchant.totp_last_step = step
    return regenerate_recovery_codes(session, merchant)


def regenerate_recovery_codes(session: DbSession, merchant: Merchant) -> list[str]:
    """Replace the recovery codes; return the new ones in clear, this once."""
    codes = _new_recovery_codes()
    merchant.recovery_codes = [hash_recovery_code(c) for c in codes]
    session.flush()
    return codes


def disable(session: DbSession, merchant: Merchant) -> None:
    """Turn two-factor sign-in off and drop the recovery codes."""
    merchant.totp_secret = None
    merchant.totp_last_step = None
    merchant.recovery_codes = None
    session.flush()


def verify(session: DbSession, merchant: Merchant, code: str) -> bool:
    """Accept a current, not yet used TOTP code, or an unused recovery code (then spent)."""
    if merchant.totp_secret and _accept_step(session, merchant,
                                             matching_step(merchant.totp_secret, code)):
        return True
    if not _normalise_recovery(code):
        return False
    return _spend_recovery_code(session, merchant, hash_recovery_code(code))


# Concurrent sign-ins spending different codes of one account: each retry follows a
# change by another, so there can be no more retries than codes.
_SPEND_TRIES = RECOVERY_CODE_COUNT + 1


def _spend_recovery_code(session: DbSession, merchant: Merchant, wanted: str) -> bool:
    """Remove *wanted* from the unused codes, if it is one, in one conditional update.

    The update applies only while the codes are still the list read (compared as their
    stored text): of concurrent sign-ins with the same code, exactly one removes it.
    """
    stored_text = cast(Merchant.recovery_codes, Text)
    for _ in range(_SPEND_TRIES):
        seen = session.scalar(select(stored_text).where(Merchant.id == merchant.id))
        codes = json.loads(seen) if seen else None
        if not isinstance(codes, list):
            return False
        matches = [i for i, c in enumerate(codes) if hmac.compare_digest(str(c), wanted)]
        if not matches:
            return False
        remaining = codes[:matches[0]] + codes[matches[0] + 1:]
        won = rows_changed(session.execute(
            update(Merchant).where(Merchant.id == merchant.id, stored_text == seen)
            .values(recovery_codes=remaining)
            .execution_options(synchronize_session=False))) == 1
        if won:
            set_committed_value(merchant, "recovery_codes", remaining)
            return True
    return False


def recovery_codes_left(merchant: Merchant) -> int:
    """Return how many recovery codes are still unused."""
    return len(merchant.recovery_codes or [])
