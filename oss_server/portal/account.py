"""The merchant's own account: password, two-factor sign-in, subscription, closing."""
from __future__ import annotations

import secrets
from datetime import date

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import login_required

from ..config import secret_key
from ..extensions import db
from ..services import accounts, credentials, signin, twofactor
from ..services.passwords import PasswordPolicyError
from .blueprint import bp
from .forms import ActionForm, ChangePasswordForm, ConfirmPasswordForm, EnableTwoFactorForm
from .login import current_merchant, end_session, start_session


def _settings_page(**forms):
    forms.setdefault("password_form", ChangePasswordForm())
    forms.setdefault("confirm_form", ConfirmPasswordForm())
    return render_template("portal/settings.html", merchant=current_merchant(),
                           codes_left=twofactor.recovery_codes_left(current_merchant()), **forms)


@bp.route("/settings")
@login_required
def settings():
    """Show the account's sign-in settings and the way to close it."""
    return _settings_page()


@bp.route("/settings/password", methods=["POST"])
@login_required
def change_password():
    """Change the password; every other session ends, this one continues."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            credentials.change_password(db.session, current_merchant(), form.current.data,
                                        form.password.data, request.remote_addr)
        except signin.TooManyAttempts as exc:
            return _too_many_attempts(exc, password_form=form)
        except (accounts.AccountError, PasswordPolicyError) as exc:
            db.session.rollback()
            form.current.errors.append(str(exc))
        else:
            db.session.commit()
            start_session(current_merchant())  # re-issue this session with the new version
            flash("Password changed. Other signed-in sessions have been signed out.", "success")
            return redirect(url_for(".settings"))
    return _settings_page(password_form=form), 400


@bp.route("/settings/two-factor", methods=["GET", "POST"])
@login_required
def two_factor():
    """Enrol an authenticator app: show the secret, then confirm it with a code."""
    merchant = current_merchant()
    if merchant.totp_secret:
        return redirect(url_for(".settings"))
    nonce = session.get("totp_setup") or secrets.token_urlsafe(16)
    session["totp_setup"] = nonce  # the secret itself never goes into the cookie
    secret = twofactor.enrolment_secret(secret_key(current_app.config), merchant, nonce)
    form = EnableTwoFactorForm()
    if form.validate_on_submit():
        codes = twofactor.enable(db.session, merchant, secret, form.code.data)
        if codes is not None:
            db.session.commit()
            session.pop("totp_setup", None)
            return render_template("portal/recovery_codes.html", codes=codes, enabled=True)
        form.code.errors.append("That code does not match. Check the app and try again.")
    uri = twofactor.provisioning_uri(secret, merchant.email)
    return render_template("portal/two_factor.html", form=form, secret=secret, uri=uri,
                           qr=twofactor.provisioning_qr(uri))


def _too_many_attempts(exc: signin.TooManyAttempts, **forms):
    """The settings page, refused with 429: the password was given wrong too often."""
    db.session.rollback()
    wait = exc.wait_seconds
    flash(f"Too many password attempts. Try again in {wait} second{'s' if wait != 1 else ''}.",
          "error")
    return _settings_page(**forms), 429, {"Retry-After": str(wait)}


def _password_confirmed(form: ConfirmPasswordForm) -> bool:
    """Check the password given again; a throttled attempt ends the request with 429."""
    if not form.validate_on_submit():
        return False
    try:
        signin.confirm_password(db.session, current_merchant(), form.password.data,
                                request.remote_addr)
    except signin.TooManyAttempts as exc:
        abort(make_response(_too_many_attempts(exc)))
    except accounts.AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return False
    return True


@bp.route("/settings/two-factor/disable", methods=["POST"])
@login_required
def disable_two_factor():
    """Turn two-factor sign-in off after the password is given again."""
    if _password_confirmed(ConfirmPasswordForm()):
        twofactor.disable(db.session, current_merchant())
        db.session.commit()
        flash("Two-factor sign-in is off.", "success")
    return redirect(url_for(".settings"))


@bp.route("/settings/two-factor/recovery-codes", methods=["POST"])
@login_required
def new_recovery_codes():
    """Replace the recovery codes (the old ones stop working) and show the new ones once."""
    merchant = current_merchant()
    if not merchant.totp_secret or not _password_confirmed(ConfirmPasswordForm()):
        return redirect(url_for(".settings"))
    codes = twofactor.regenerate_recovery_codes(db.session, merchant)
    db.session.commit()
    return render_template("portal/recovery_codes.html", codes=codes, enabled=False)


@bp.route("/settings/delete", methods=["POST"])
@login_required
def delete_account():
    """Close the account: erase every store, key, order and the account itself."""
    form = ConfirmPasswordForm()
    if not form.validate_on_submit():
        return redirect(url_for(".settings"))
    try:
        credentials.close_account(db.session, current_merchant(), form.password.data,
                                  request.remote_addr)
    except signin.TooManyAttempts as exc:
        return _too_many_attempts(exc)
    except accounts.AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".settings"))
    db.session.commit()
    end_session()
    flash("Your account and all its data have been erased.", "success")
    return redirect(url_for(".login"))


@bp.route("/subscription")
@login_required
def subscription():
    """Show the plan, the paid-through date, the days left and what a lapse means."""
    state = accounts.subscription_state(current_merchant(), date.today(),
                                        current_app.config["OSS_GRACE_DAYS"])
    return render_template("portal/subscription.html", merchant=current_merchant(),
                           state=state, grace_days=current_app.config["OSS_GRACE_DAYS"],
                           action_form=ActionForm())
