"""Sign-up tells nobody whether an email has an account, and is limited per address."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from oss_server.models import Merchant, OutboxEmail
from oss_server.models.outbox import ACCOUNT_NOTICE
from oss_server.services import passwords, throttle
from tests.conftest import PASSWORD

OTHER_PASSWORD = "someone else's long passphrase"


def _sign_up(portal, email, password=PASSWORD, address="127.0.0.1"):
    return portal.post("/account/signup", {"email": email, "password": password,
                                           "confirm": password},
                       environ_base={"REMOTE_ADDR": address})


def _page_after(portal, response) -> str:
    """The page the browser ends on, CSRF token blanked (it differs per browser)."""
    assert response.status_code == 302, response.get_data(as_text=True)
    html = portal.get(response.headers["Location"]).get_data(as_text=True)
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", html)


def _emails(session, to):
    session.expire_all()
    return list(session.scalars(select(OutboxEmail).where(OutboxEmail.recipient == to)))


def test_an_existing_email_gets_the_same_answer_as_a_new_one(new_portal, make_merchant,
                                                             session):
    owner = make_merchant(email="owner@example.com")
    taken, fresh = new_portal(), new_portal()
    taken_answer = _sign_up(taken, "Owner@Example.com", OTHER_PASSWORD)
    fresh_answer = _sign_up(fresh, "newcomer@example.com", OTHER_PASSWORD)
    assert taken_answer.status_code == fresh_answer.status_code == 302
    assert taken_answer.headers["Location"] == fresh_answer.headers["Location"]
    assert taken_answer.get_data() == fresh_answer.get_data()
    assert _page_after(taken, taken_answer) == _page_after(fresh, fresh_answer)
    # Neither browser is signed in.
    assert taken.get("/account/").status_code == fresh.get("/account/").status_code == 302
    # The existing account is untouched: its own password still signs in, the other not.
    session.expire_all()
    kept = session.get(Merchant, owner.id)
    assert passwords.verify_password(kept.password_hash, PASSWORD)[0]
    assert not passwords.verify_password(kept.password_hash, OTHER_PASSWORD)[0]
    assert session.scalar(select(func.count()).select_from(Merchant)) == 2


def test_the_owner_is_told_they_already_have_an_account(portal, make_merchant, session, app):
    make_merchant(email="owner@example.com")
    _sign_up(portal, "owner@example.com", OTHER_PASSWORD)
    (email,) = _emails(session, "owner@example.com")
    assert email.kind == ACCOUNT_NOTICE
    assert "already" in email.subject.lower()
    base = app.config["OSS_BASE_URL"].rstrip("/")
    assert base + "/account/login" in email.text
    assert base + "/account/reset" in email.text
    assert OTHER_PASSWORD not in email.text


def test_a_new_account_gets_a_welcome_email(portal, session):
    _sign_up(portal, "newcomer@example.com")
    (email,) = _emails(session, "newcomer@example.com")
    assert email.kind == ACCOUNT_NOTICE and "ready" in email.subject
    assert "/account/login" in email.text and PASSWORD not in email.text


def test_closing_the_account_erases_its_account_emails(signed_in, make_merchant, session):
    merchant = make_merchant(email="owner@example.com")
    browser = signed_in(merchant)
    _sign_up(browser, "owner@example.com", OTHER_PASSWORD)
    assert len(_emails(session, "owner@example.com")) == 1
    browser.post("/account/settings/delete", {"password": PASSWORD})
    assert _emails(session, "owner@example.com") == []


def test_sign_ups_are_limited_per_address(new_portal, session):
    portal = new_portal()
    allowed = throttle.SIGNUPS_PER_ADDRESS
    for n in range(allowed):
        assert _sign_up(portal, f"shop{n}@example.com", address="192.0.2.9").status_code == 302
    refused = _sign_up(portal, "one-more@example.com", address="192.0.2.9")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert "Too many sign-ups" in refused.get_data(as_text=True)
    assert session.scalar(select(Merchant).where(Merchant.email == "one-more@example.com")) is None
    # Existing emails count the same: the limit is on the address, whatever is typed.
    assert _sign_up(portal, "shop0@example.com", address="192.0.2.9").status_code == 429
    # Another address is not affected.
    assert _sign_up(new_portal(), "elsewhere@example.com",
                    address="198.51.100.4").status_code == 302


@pytest.mark.parametrize("app_config", [{"OSS_ALLOW_SIGNUP": False}])
def test_nothing_is_counted_when_sign_up_is_off(portal, session):
    assert _sign_up(portal, "x@example.com").status_code == 404
