"""Sign up, sign in and out, password reset and change, session rules."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from oss_server.models import Merchant, OutboxEmail, PortalSession
from oss_server.services import credentials, signin
from tests.conftest import PASSWORD

from .argon2_calls import Argon2Calls

NEW_PASSWORD = "a much longer new passphrase"


@pytest.fixture
def hasher(monkeypatch):
    return Argon2Calls(monkeypatch)


def test_signup_creates_a_trial_account_then_asks_to_sign_in(portal, session, app):
    response = portal.post("/account/signup", {"email": "New@Example.com", "password": PASSWORD,
                                               "confirm": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/login")
    merchant = session.scalar(select(Merchant).where(Merchant.email == "new@example.com"))
    assert merchant.paid_through == date.today() + timedelta(days=app.config["OSS_TRIAL_DAYS"])
    # Not signed in by the sign-up (an existing email must get the same answer).
    assert portal.get("/account/").status_code == 302
    assert portal.login("New@Example.com").status_code == 302
    assert portal.get("/account/").status_code == 200


def test_signup_refuses_short_passwords(portal, session):
    response = portal.post("/account/signup", {"email": "a@example.com", "password": "short",
                                               "confirm": "short"})
    assert response.status_code == 200
    assert "at least 12" in response.get_data(as_text=True)
    assert session.scalar(select(Merchant)) is None


@pytest.mark.parametrize("app_config", [{"OSS_ALLOW_SIGNUP": False}])
def test_signup_is_absent_when_disabled(portal):
    assert portal.get("/account/signup").status_code == 404


def test_unknown_email_and_wrong_password_look_the_same(portal, make_merchant, hasher):
    merchant = make_merchant()
    hasher.reset()
    wrong = portal.login(merchant.email, "wrong password here")
    assert hasher.verifications == 1
    unknown = portal.login("nobody@example.com", "wrong password here")
    assert hasher.verifications == 2
    assert wrong.status_code == unknown.status_code == 200
    assert signin.FAILURE_MESSAGE in wrong.get_data(as_text=True)
    strip = lambda html: re.sub(r'value="[^"]*"', "", html)  # noqa: E731 (echoed input, token)
    assert strip(wrong.get_data(as_text=True)) == strip(unknown.get_data(as_text=True))


def test_login_clears_the_session_it_arrives_with(portal, make_merchant):
    merchant = make_merchant()
    with portal.client.session_transaction() as sess:
        sess["planted"] = "by someone else"
    assert portal.login(merchant.email).status_code == 302
    with portal.client.session_transaction() as sess:
        assert "planted" not in sess
        assert "login_at" in sess


def test_login_follows_only_portal_next_targets(portal, make_merchant):
    merchant = make_merchant()
    response = portal.post("/account/login?next=https://evil.example/",
                           {"email": merchant.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/account/")
    portal.logout()
    response = portal.post("/account/login?next=/account/settings",
                           {"email": merchant.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/account/settings")


def test_logout_is_a_post(signed_in, make_merchant):
    browser = signed_in(make_merchant())
    assert browser.get("/account/logout").status_code == 405
    assert browser.logout().status_code == 302
    assert browser.get("/account/").status_code == 302


def test_a_copy_of_the_cookie_stops_working_at_sign_out(signed_in, new_portal, make_merchant,
                                                        session):
    merchant = make_merchant()
    browser, other_device = signed_in(merchant), signed_in(merchant)
    copied = browser.client.get_cookie("session").value
    thief = new_portal()
    thief.client.set_cookie("session", copied)
    assert thief.get("/account/").status_code == 200  # the copy works while signed in
    assert browser.logout().status_code == 302
    assert thief.get("/account/").status_code == 302  # signed out on the server too
    assert other_device.get("/account/").status_code == 200  # other sessions go on
    assert session.scalar(select(func.count()).select_from(PortalSession)) == 1


def test_sessions_go_with_the_account(signed_in, make_merchant, session):
    merchant = make_merchant()
    browser = signed_in(merchant)
    response = browser.post("/account/settings/delete", {"password": PASSWORD})
    assert response.status_code == 302
    assert session.scalar(select(func.count()).select_from(PortalSession)) == 0


def test_session_cookie_flags(portal, make_merchant):
    response = portal.login(make_merchant().email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_portal_pages_are_not_cached(signed_in, make_merchant):
    response = signed_in(make_merchant()).get("/account/")
    assert response.headers["Cache-Control"] == "no-store"


def test_idle_session_ends_after_30_minutes(clock, signed_in, make_merchant):
    browser = signed_in(make_merchant())
    clock.advance(29 * 60)
    assert browser.get("/account/").status_code == 200
    clock.advance(29 * 60)  # active 29 minutes ago: still fine
    assert browser.get("/account/").status_code == 200
    clock.advance(31 * 60)
    response = browser.get("/account/")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    assert browser.get("/account/").status_code == 302


def test_session_ends_after_12_hours_however_active(clock, signed_in, make_merchant):
    browser = signed_in(make_merchant())
    for _ in range(12 * 60 // 25):
        clock.advance(25 * 60)
        assert browser.get("/account/").status_code == 200
    clock.advance(25 * 60)
    assert browser.get("/account/").status_code == 302


def test_password_change_ends_other_sessions(signed_in, make_merchant):
    merchant = make_merchant()
    here, elsewhere = signed_in(merchant), signed_in(merchant)
    response = here.post("/account/settings/password", {
        "current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert here.get("/account/").status_code == 200
    assert elsewhere.get("/account/").status_code == 302
    assert here.logout().status_code == 302
    assert here.login(merchant.email, PASSWORD).status_code == 200
    assert here.login(merchant.email, NEW_PASSWORD).status_code == 302


def test_password_change_needs_the_current_password(signed_in, make_merchant):
    browser = signed_in(make_merchant())
    response = browser.post("/account/settings/password", {
        "current": "not my password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert "current password is not correct" in response.get_data(as_text=True)


def _reset_link(session) -> str:
    email = session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()
    assert email.kind == "password_reset"
    return re.search(r"http\S+/account/reset/\S+", email.text).group(0)


def test_password_reset_by_emailed_single_use_link(portal, make_merchant, session, new_portal):
    merchant = make_merchant()
    other = new_portal()
    assert other.login(merchant.email).status_code == 302
    response = portal.post("/account/reset", {"email": merchant.email.upper()})
    assert response.status_code == 302
    path = _reset_link(session).split("://", 1)[1].split("/", 1)[1]
    assert portal.get("/" + path).status_code == 200
    response = portal.post("/" + path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert other.get("/account/").status_code == 302  # the old session ended
    assert portal.get("/" + path).status_code == 400  # used once, now void
    assert portal.login(merchant.email, PASSWORD).status_code == 200
    assert portal.login(merchant.email, NEW_PASSWORD).status_code == 302


def test_reset_for_unknown_email_answers_the_same_and_sends_nothing(portal, session):
    response = portal.post("/account/reset", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert session.scalar(select(OutboxEmail)) is None


def test_reset_links_expire_after_an_hour(app, session, make_merchant):
    merchant = make_merchant()
    token = credentials.make_reset_token(app.config["SECRET_KEY"], merchant)
    assert credentials.read_reset_token(session, app.config["SECRET_KEY"], token) == merchant
    assert credentials.read_reset_token(session, app.config["SECRET_KEY"], token,
                                        max_age=-1) is None
    assert credentials.read_reset_token(session, "another key", token) is None


def test_front_page_leads_to_sign_in_and_sign_up(portal, make_merchant):
    page = portal.get("/").get_data(as_text=True)
    assert "/account/login" in page and "/account/signup" in page
    portal.login(make_merchant().email)
    assert portal.get("/").headers["Location"].endswith("/account/")
