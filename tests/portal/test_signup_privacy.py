"""Sign-up tells nobody whether an email has an account, and is limited per address."""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from oss_server.models import Merchant, OutboxEmail
from oss_server.models.outbox import ACCOUNT_NOTICE
from oss_server.services import passwords, throttle
from tests.conftest import PASSWORD

from .argon2_calls import Argon2Calls

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


def test_both_answers_cost_one_password_hash(new_portal, make_merchant, monkeypatch):
    make_merchant(email="owner@example.com")
    counting = Argon2Calls(monkeypatch)
    _sign_up(new_portal(), "owner@example.com", OTHER_PASSWORD)
    assert counting.hashes == 1
    _sign_up(new_portal(), "newcomer@example.com", OTHER_PASSWORD)
    assert counting.hashes == 2


def test_the_same_new_email_signed_up_at_once_makes_one_account(live_url, session):
    def sign_up(barrier):
        browser = requests.Session()
        page = browser.get(live_url + "/account/signup", timeout=30).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        barrier.wait(timeout=30)
        return browser.post(live_url + "/account/signup", timeout=60, allow_redirects=False,
                            data={"csrf_token": token, "email": "twice@example.com",
                                  "password": PASSWORD, "confirm": PASSWORD})

    barrier = threading.Barrier(6)
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: sign_up(barrier), range(6)))
    assert {(a.status_code, a.headers.get("Location")) for a in answers} == {
        (302, "/account/login")}
    assert session.scalar(select(func.count()).select_from(Merchant)) == 1
    subjects = sorted(email.subject for email in _emails(session, "twice@example.com"))
    assert subjects == ["You already have an Order Status account"] * 5 + [
        "Your Order Status account is ready"]
