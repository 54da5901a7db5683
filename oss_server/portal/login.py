"""Who is signed in, and for how long: Flask-Login wiring and the session time limits."""
from __future__ import annotations

import time
from datetime import date, timedelta

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import UserMixin, current_user, login_user, logout_user

from ..extensions import db, login_manager
from ..models import Merchant, Store
from ..services import accounts, portal_logins

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
PENDING_2FA_TIMEOUT = timedelta(minutes=5)


def clock() -> float:
    """Return the current time in seconds; tests replace it to move time."""
    return time.time()


class PortalUser(UserMixin):
    """The signed-in merchant as Flask-Login sees it."""

    def __init__(self, merchant: Merchant):
        self.merchant = merchant

    def get_id(self) -> str:
        # The session version rides along: a password change bumps it and so ends
        # every other session at its next request.
        return f"{self.merchant.id}.{self.merchant.session_version}"


def init_login(app) -> None:
    """Configure Flask-Login for the portal."""
    login_manager.login_view = "portal.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


@login_manager.user_loader
def _load_user(user_id: str) -> PortalUser | None:
    merchant_id, _, version = user_id.partition(".")
    if not merchant_id.isdigit() or not version.isdigit():
        return None
    merchant = db.session.get(Merchant, int(merchant_id))
    if merchant is None or merchant.session_version != int(version):
        return None
    # The cookie alone is not enough: its session must still be on file (not signed out).
    if not portal_logins.is_open(db.session, merchant.id, session.get("sid")):
        return None
    return PortalUser(merchant)


def start_session(merchant: Merchant) -> None:
    """Sign *merchant* in on a fresh session (nothing of the old one carries over)."""
    session.clear()
    session["sid"] = portal_logins.open_session(db.session, merchant)
    db.session.commit()
    login_user(PortalUser(merchant))
    session.permanent = True
    session["login_at"] = session["seen_at"] = clock()


def begin_second_factor(merchant: Merchant) -> None:
    """Remember, for five minutes, whose password was right; the code comes next."""
    session.clear()
    session["pending_2fa"] = [merchant.id, merchant.session_version, clock()]


def pending_merchant() -> Merchant | None:
    """Return the merchant waiting for the second factor, if still in time."""
    merchant_id, version, started = session.get("pending_2fa") or (None, None, 0)
    if merchant_id is None or clock() - started > PENDING_2FA_TIMEOUT.total_seconds():
        session.pop("pending_2fa", None)
        return None
    merchant = db.session.get(Merchant, merchant_id)
    return merchant if merchant is not None and merchant.session_version == version else None


def end_session() -> None:
    """Sign out and drop everything the session held, on the server too."""
    portal_logins.close_session(db.session, session.get("sid"))
    db.session.commit()
    logout_user()
    session.clear()


def enforce_time_limits():
    """End a session idle for 30 minutes or open for 12 hours (runs before portal views)."""
    if not current_user.is_authenticated:
        return None
    now = clock()
    opened, seen = session.get("login_at"), session.get("seen_at")
    if (opened is None or seen is None or now - seen > IDLE_TIMEOUT.total_seconds()
            or now - opened > ABSOLUTE_TIMEOUT.total_seconds()):
        end_session()
        flash("Your session has ended. Sign in again to continue.", "info")
        return redirect(url_for("portal.login"))
    session["seen_at"] = now
    return None


def current_merchant() -> Merchant:
    """Return the signed-in merchant (views are behind ``login_required``)."""
    return current_user.merchant


def owned_store(slug: str) -> Store:
    """Return the signed-in merchant's store; another merchant's store is a 404."""
    return accounts.get_store(db.session, slug, current_merchant())


def subscription_context() -> dict:
    """Expose the subscription state to portal templates, for the renewal banner."""
    if not current_user.is_authenticated:
        return {}
    state = accounts.subscription_state(current_merchant(), date.today(),
                                        current_app.config["OSS_GRACE_DAYS"])
    return {"subscription": state}


def safe_next(default: str) -> str:
    """Return the ``next`` target when it is a portal path, else *default*."""
    target = request.values.get("next", "")
    if target.startswith("/account/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
