"""TOTP two-factor sign-in: enrolment, sign-in, recovery codes, turning it off."""
from __future__ import annotations

import base64
import re
import time
import zlib

import pyotp
import pytest

from oss_server.models import Merchant
from tests.conftest import PASSWORD


def _enrol(browser) -> tuple[str, list[str]]:
    page = browser.get("/account/settings/two-factor").get_data(as_text=True)
    secret = re.search(r'id="totp-secret" class="secret">([A-Z2-7]+)<', page).group(1)
    response = browser.post("/account/settings/two-factor", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>",
                       response.get_data(as_text=True))
    return secret, codes


@pytest.fixture
def enrolled(signed_in, make_merchant):
    merchant = make_merchant()
    secret, codes = _enrol(signed_in(merchant))
    return merchant, secret, codes


def test_enrolment_shows_a_qr_code_of_the_key_on_the_page(signed_in, make_merchant):
    import segno
    merchant = make_merchant()
    page = signed_in(merchant).get("/account/settings/two-factor").get_data(as_text=True)
    secret = re.search(r'id="totp-secret" class="secret">([A-Z2-7]+)<', page).group(1)
    drawn = re.search(r'<svg[^>]*class="qr"[^>]*>.*?</svg>', page, re.S).group(0)
    # The modules drawn are those of the otpauth URI holding the key shown beside it.
    uri = pyotp.TOTP(secret).provisioning_uri(name=merchant.email, issuer_name="Order Status")
    expected = segno.make(uri, error="m").svg_inline(scale=4, border=4, dark="#000",
                                                     light="#fff", svgclass="qr", lineclass=None)
    assert re.search(r' d="([^"]+)"', drawn).group(1) == re.search(r' d="([^"]+)"',
                                                                   expected).group(1)
    assert "<script" not in drawn and 'role="img"' in page


def test_the_key_being_enrolled_is_not_in_the_session_cookie(signed_in, make_merchant):
    browser = signed_in(make_merchant())
    first = browser.get("/account/settings/two-factor").get_data(as_text=True)
    secret = re.search(r'id="totp-secret" class="secret">([A-Z2-7]+)<', first).group(1)
    # A signed cookie is readable by whoever holds a copy: it must not carry the key.
    cookie = browser.client.get_cookie("session").value
    payload = cookie.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    if cookie.startswith("."):
        raw = zlib.decompress(raw)
    assert b"totp_setup" in raw and secret.encode() not in raw
    # The same key is offered until the enrolment is confirmed.
    again = browser.get("/account/settings/two-factor").get_data(as_text=True)
    assert secret in again


def test_enrolment_needs_a_code_from_the_app(signed_in, make_merchant, session):
    merchant = make_merchant()
    browser = signed_in(merchant)
    browser.get("/account/settings/two-factor")
    response = browser.post("/account/settings/two-factor", {"code": "000000"})
    assert "does not match" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Merchant, merchant.id).totp_secret is None


def test_enrolment_shows_ten_recovery_codes_and_stores_only_hashes(enrolled, session):
    merchant, secret, codes = enrolled
    assert len(codes) == 10
    session.expire_all()
    stored = session.get(Merchant, merchant.id)
    assert stored.totp_secret == secret
    assert not set(codes) & set(stored.recovery_codes)


def test_sign_in_asks_for_the_code_after_the_password(enrolled, new_portal):
    merchant, secret, _ = enrolled
    browser = new_portal()
    response = browser.login(merchant.email)
    assert response.headers["Location"].endswith("/account/login/verify")
    assert browser.get("/account/").status_code == 302  # not signed in yet
    wrong = browser.post("/account/login/verify", {"code": "123456"})
    assert "Incorrect" in wrong.get_data(as_text=True)
    # Enrolment used this step's code; the app shows the next one after at most 30 s.
    response = browser.post("/account/login/verify", {"code": _next_code(secret)})
    assert response.status_code == 302
    assert browser.get("/account/").status_code == 200


def _next_code(secret: str) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_a_code_is_accepted_only_once(enrolled, new_portal):
    merchant, secret, _ = enrolled
    code = _next_code(secret)
    first = new_portal()
    first.login(merchant.email)
    assert first.post("/account/login/verify", {"code": code}).status_code == 302
    # Someone who saw it typed tries it again within its window: refused.
    second = new_portal()
    second.login(merchant.email)
    replay = second.post("/account/login/verify", {"code": code})
    assert replay.status_code == 200 and "Incorrect" in replay.get_data(as_text=True)
    assert second.get("/account/").status_code == 302


def test_the_enrolment_code_cannot_sign_in(enrolled, new_portal, session):
    merchant, secret, _ = enrolled
    session.expire_all()
    step = session.get(Merchant, merchant.id).totp_last_step
    browser = new_portal()
    browser.login(merchant.email)
    # The code the enrolment proved: still inside its window, but spent.
    response = browser.post("/account/login/verify",
                            {"code": pyotp.TOTP(secret).generate_otp(step)})
    assert response.status_code == 200 and "Incorrect" in response.get_data(as_text=True)


def test_the_code_step_expires(enrolled, new_portal, clock):
    merchant, secret, _ = enrolled
    browser = new_portal()
    browser.login(merchant.email)
    clock.advance(6 * 60)
    response = browser.post("/account/login/verify", {"code": pyotp.TOTP(secret).now()})
    assert response.headers["Location"].endswith("/account/login")


def test_turning_it_off_needs_the_password(enrolled, new_portal, session):
    merchant, secret, _ = enrolled
    browser = new_portal()
    browser.login(merchant.email)
    browser.post("/account/login/verify", {"code": _next_code(secret)})
    browser.post("/account/settings/two-factor/disable", {"password": "not my password"})
    session.expire_all()
    assert session.get(Merchant, merchant.id).totp_secret is not None
    browser.post("/account/settings/two-factor/disable", {"password": PASSWORD})
    session.expire_all()
    assert session.get(Merchant, merchant.id).totp_secret is None
