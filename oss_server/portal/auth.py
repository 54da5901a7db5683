"""Sign up, sign in (with the optional second factor), sign out and password reset."""
from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from ..config import secret_key
from ..extensions import db
from ..security.origin import portal_base_url
from ..services import accounts, credentials, signin, throttle
from ..services.passwords import PasswordPolicyError
from ..services.signup import Links, sign_up
from .blueprint import bp
from .forms import LoginForm, ResetForm, ResetRequestForm, SecondFactorForm, SignupForm
from .login import begin_second_factor, end_session, pending_merchant, safe_next, start_session


def _refused(template: str, form, attempt: signin.Attempt, **context):
    """Render a refused sign-in step: throttled (429) or the one generic message."""
    if attempt.wait_seconds:
        message = (f"Too many sign-in attempts. Try again in {attempt.wait_seconds} "
                   f"second{'s' if attempt.wait_seconds != 1 else ''}.")
        body = render_template(template, form=form, error=message, **context)
        return body, 429, {"Retry-After": str(attempt.wait_seconds)}
    return render_template(template, form=form, error=signin.FAILURE_MESSAGE, **context)


SIGNUP_SENT = ("We have sent an email to the address you gave. If it is new to us, your "
               "account is ready: sign in with the password you chose. If it already has "
               "an account, the email says how to get back into it.")


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Open a trial account; the answer is the same whether the email has one already."""
    if not current_app.config["OSS_ALLOW_SIGNUP"]:
        abort(404)
    form = SignupForm()
    if form.validate_on_submit():
        waits = throttle.count_requests(
            db.session, {throttle.signup_key(request.remote_addr): throttle.SIGNUP_PER_ADDRESS})
        wait = max(waits.values())
        if wait:
            minutes = max(1, (wait + 59) // 60)
            form.email.errors.append(
                f"Too many sign-ups from your network. Try again in {minutes} "
                f"minute{'s' if minutes != 1 else ''}.")
            return render_template("portal/signup.html", form=form), 429, {
                "Retry-After": str(wait)}
        try:
            _sign_up(form)
        except (accounts.AccountError, PasswordPolicyError) as exc:
            db.session.rollback()
            form.email.errors.append(str(exc))
        else:
            flash(SIGNUP_SENT, "success")
            return redirect(url_for(".login"))
    return render_template("portal/signup.html", form=form)


def _sign_up(form: SignupForm) -> None:
    base = portal_base_url(current_app.config)
    links = Links(sign_in=base + url_for(".login"), reset=base + url_for(".reset_request"))
    for last_try in (False, True):
        try:
            sign_up(db.session, form.email.data, form.password.data, date.today(),
                           current_app.config["OSS_TRIAL_DAYS"], links)
            db.session.commit()
            return
        except IntegrityError:
            # The same new email signed up at the same moment: the second is now the
            # "already has an account" case.
            db.session.rollback()
            if last_try:
                raise


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Check the email and password; continue to the second factor when it is on."""
    if current_user.is_authenticated:
        return redirect(url_for(".dashboard"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("portal/login.html", form=form)
    attempt = signin.check_password(db.session, form.email.data, form.password.data,
                                    request.remote_addr)
    db.session.commit()
    if attempt.merchant is None:
        return _refused("portal/login.html", form, attempt)
    if attempt.merchant.totp_secret:
        begin_second_factor(attempt.merchant)
        return redirect(url_for(".login_second_factor", next=safe_next("") or None))
    start_session(attempt.merchant)
    return redirect(safe_next(url_for(".dashboard")))


@bp.route("/login/verify", methods=["GET", "POST"])
def login_second_factor():
    """Ask for the authenticator code (or a recovery code) after the password."""
    merchant = pending_merchant()
    if merchant is None:
        return redirect(url_for(".login"))
    form = SecondFactorForm()
    if not form.validate_on_submit():
        return render_template("portal/login_verify.html", form=form)
    attempt = signin.check_second_factor(db.session, merchant, form.code.data,
                                         request.remote_addr)
    db.session.commit()
    if attempt.merchant is None:
        return _refused("portal/login_verify.html", form, attempt)
    start_session(merchant)
    return redirect(safe_next(url_for(".dashboard")))


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out (a POST, so another site cannot sign a merchant out)."""
    end_session()
    flash("You are signed out.", "success")
    return redirect(url_for(".login"))


# Reset emails are limited with the sign-in throttle's database counters (shared by every
# worker), on keys of their own. Every request counts, for known and unknown emails alike;
# the request that goes over a limit is refused, so the counting itself needs no race-prone
# check beforehand (the counter row is locked while it is updated).
@bp.route("/reset", methods=["GET", "POST"])
def reset_request():
    """Email a password-reset link; the answer is the same whether the account exists.

    At most three emails an hour go to one account: past that the answer stays the same
    and nothing is sent, so neither the limit nor the account is revealed. One network
    address making many requests (whatever the emails) is told to wait.
    """
    form = ResetRequestForm()
    if form.validate_on_submit():
        account_wait, address_wait = throttle.count_reset_request(
            db.session, form.email.data, request.remote_addr)
        if address_wait:
            db.session.commit()
            minutes = max(1, (address_wait + 59) // 60)
            form.email.errors.append(
                f"Too many reset requests from your network. Try again in {minutes} "
                f"minute{'s' if minutes != 1 else ''}.")
            body = render_template("portal/reset_request.html", form=form)
            return body, 429, {"Retry-After": str(address_wait)}
        if not account_wait:
            credentials.send_reset_link(db.session, secret_key(current_app.config),
                                        form.email.data, _reset_link)
        db.session.commit()
        flash("If an account uses that email, a reset link is on its way. "
              "It works once, within an hour.", "success")
        return redirect(url_for(".login"))
    return render_template("portal/reset_request.html", form=form)


def _reset_link(token: str) -> str:
    # On the portal's own host when it has one: the token never passes the shopper host.
    base = portal_base_url(current_app.config)
    return base + url_for(".reset_password", token=token)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    """Set a new password from an emailed link (valid once, for an hour)."""
    merchant = credentials.read_reset_token(db.session, secret_key(current_app.config), token)
    if merchant is None:
        return render_template("portal/reset_invalid.html"), 400
    form = ResetForm()
    if form.validate_on_submit():
        if not credentials.set_password(db.session, merchant, form.password.data):
            # Another request used the link first: it works once.
            db.session.rollback()
            return render_template("portal/reset_invalid.html"), 400
        db.session.commit()
        end_session()
        flash("Your password is changed. Sign in with the new one.", "success")
        return redirect(url_for(".login"))
    return render_template("portal/reset.html", form=form, token=token)
