"""Throttles under concurrent bursts through a real threaded server.

Every secret check (argon2, TOTP, recovery code) is counted and made to take 50 ms, as a
real argon2 check does: the window in which a throttle that reads its wait before the
check and writes the failure after it lets a whole burst through.
"""
from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pyotp
import pytest
import requests

from oss_server.models import LoginThrottle, Merchant, utcnow
from oss_server.services import credentials, passwords, throttle, twofactor
from tests.conftest import PASSWORD

from .argon2_calls import Argon2Calls

BURST = 40
CHECK_TIME_S = 0.05
FREE = throttle.ACCOUNT.free_failures
_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class Counted:
    """Call *func*, counting the calls and taking CHECK_TIME_S each."""

    def __init__(self, func):
        self.func, self.calls, self._lock = func, 0, threading.Lock()

    def __call__(self, *args, **kwargs):
        with self._lock:
            self.calls += 1
        time.sleep(CHECK_TIME_S)
        return self.func(*args, **kwargs)


@pytest.fixture
def hasher(monkeypatch):
    """Argon2 checks counted, each taking CHECK_TIME_S."""
    return Argon2Calls(monkeypatch, seconds=CHECK_TIME_S)


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, stopped (a 1 s lock must not run out during a burst)."""
    class Clock:
        now = utcnow()

        def advance(self, seconds):
            self.now += timedelta(seconds=seconds)

    fake = Clock()
    monkeypatch.setattr(throttle, "utcnow", lambda: fake.now)
    return fake


class Browser:
    """One browser of the burst: its own cookies and the CSRF token of the last form seen."""

    def __init__(self, base: str):
        self.base, self.http, self.token = base, requests.Session(), None

    def open(self, path: str) -> requests.Response:
        response = self.http.get(self.base + path, timeout=30)
        self._remember(response)
        return response

    def post(self, path: str, **fields) -> requests.Response:
        response = self.http.post(self.base + path, data={"csrf_token": self.token, **fields},
                                  timeout=60, allow_redirects=False)
        self._remember(response)
        return response

    def follow(self, response: requests.Response) -> requests.Response:
        return self.open(response.headers["Location"].removeprefix(self.base))

    def _remember(self, response):
        match = _TOKEN.search(response.text)
        if match:
            self.token = match.group(1)

    def sign_in(self, email: str, password: str = PASSWORD) -> requests.Response:
        self.open("/account/login")
        return self.follow(self.post("/account/login", email=email, password=password))


def burst(calls) -> list[requests.Response]:
    """Run every call at once (a barrier releases them together); return their answers."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(timeout=60)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _row(session, key) -> LoginThrottle | None:
    session.expire_all()
    return session.get(LoginThrottle, key)


def _statuses(responses) -> dict[int, int]:
    found: dict[int, int] = {}
    for response in responses:
        found[response.status_code] = found.get(response.status_code, 0) + 1
    return found


def test_concurrent_wrong_passwords_get_the_checks_of_a_sequence(live_url, make_merchant,
                                                                  session, hasher, clock):
    email = make_merchant().email
    browsers = [Browser(live_url) for _ in range(BURST)]
    for browser in browsers:
        browser.open("/account/login")
    wrong = [lambda b=b: b.post("/account/login", email=email,
                                password="wrong password here") for b in browsers]
    answers = burst(wrong)
    # Five checks, as five attempts one after the other; the rest wait without a check.
    assert hasher.verifications == FREE
    assert _statuses(answers) == {200: FREE, 429: BURST - FREE}
    assert {a.headers["Retry-After"] for a in answers if a.status_code == 429} == {"1"}
    # Every failure checked is recorded, per account and per address.
    account = _row(session, throttle.account_key(email))
    assert account.failures == FREE
    assert account.locked_until == clock.now + timedelta(seconds=1)
    assert _row(session, throttle.address_key("127.0.0.1")).failures == FREE
    # Once the lock has passed, the next burst gets one check and the next lock doubles.
    clock.advance(1)
    answers = burst(wrong)
    assert hasher.verifications == FREE + 1
    assert _statuses(answers) == {200: 1, 429: BURST - 1}
    assert {a.headers["Retry-After"] for a in answers if a.status_code == 429} == {"2"}
    assert _row(session, throttle.account_key(email)).failures == FREE + 1
    # Even the right password now waits, and a success after the wait resets the account.
    assert browsers[0].post("/account/login", email=email,
                            password=PASSWORD).status_code == 429
    clock.advance(2)
    assert browsers[0].post("/account/login", email=email,
                            password=PASSWORD).status_code == 302
    assert _row(session, throttle.account_key(email)) is None


@pytest.fixture
def two_factor_merchant(make_merchant, session):
    """A merchant with two-factor sign-in on; returns (merchant, secret, recovery codes)."""
    merchant = make_merchant()
    secret = pyotp.random_base32()
    codes = twofactor.enable(session, merchant, secret, pyotp.TOTP(secret).now())
    session.commit()
    return merchant, secret, codes


def _at_second_factor(live_url, merchant, count) -> list[Browser]:
    browsers = []
    for _ in range(count):
        browser = Browser(live_url)
        page = browser.sign_in(merchant.email)
        assert page.url.startswith(live_url + "/account/login/verify"), page.url
        browsers.append(browser)
    return browsers


@pytest.fixture
def code_checks(monkeypatch):
    counted = Counted(twofactor.matching_step)
    monkeypatch.setattr(twofactor, "matching_step", counted)
    return counted


def test_concurrent_wrong_codes_get_the_checks_of_a_sequence(live_url, two_factor_merchant,
                                                              session, clock, code_checks):
    merchant, secret, _codes = two_factor_merchant
    browsers = _at_second_factor(live_url, merchant, BURST)
    # The right passwords of the sign-ins left nothing counted.
    counted = _row(session, throttle.account_key(merchant.email))
    assert counted is None or counted.failures == 0
    code_checks.calls = 0
    valid = {pyotp.TOTP(secret).at(time.time() + drift) for drift in (-30, 0, 30)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)
    answers = burst([lambda b=b: b.post("/account/login/verify", code=wrong)
                     for b in browsers])
    assert code_checks.calls == FREE
    assert _statuses(answers) == {200: FREE, 429: BURST - FREE}
    account = _row(session, throttle.account_key(merchant.email))
    assert account.failures == FREE
    assert account.locked_until == clock.now + timedelta(seconds=1)
    assert _row(session, throttle.address_key("127.0.0.1")).failures == FREE


def _signed_in(responses) -> int:
    return sum(1 for r in responses
               if r.status_code == 302 and r.headers["Location"].endswith("/account/"))


def test_one_recovery_code_sent_by_six_sign_ins_opens_one_session(
        live_url, two_factor_merchant, session, monkeypatch):
    merchant, _secret, codes = two_factor_merchant
    monkeypatch.setattr(twofactor, "hash_recovery_code", Counted(twofactor.hash_recovery_code))
    browsers = _at_second_factor(live_url, merchant, 6)
    answers = burst([lambda b=b: b.post("/account/login/verify", code=codes[0])
                     for b in browsers])
    assert _signed_in(answers) == 1, _statuses(answers)
    session.expire_all()
    assert twofactor.recovery_codes_left(session.get(Merchant, merchant.id)) == len(codes) - 1


def test_one_totp_code_sent_by_six_sign_ins_opens_one_session(
        live_url, two_factor_merchant, session, code_checks):
    merchant, secret, _codes = two_factor_merchant
    browsers = _at_second_factor(live_url, merchant, 6)
    # The next step's code: enabling spent the current one.
    code = pyotp.TOTP(secret).at(time.time() + 30)
    answers = burst([lambda b=b: b.post("/account/login/verify", code=code) for b in browsers])
    assert _signed_in(answers) == 1, _statuses(answers)


# Each page that asks a signed-in merchant for the password again: path, its fields, and
# whether it needs two-factor sign-in on.
REENTRY = {
    "change-password": ("/account/settings/password",
                        lambda p: {"current": p, "password": "a new long passphrase",
                                   "confirm": "a new long passphrase"}, False),
    "turn-off-2fa": ("/account/settings/two-factor/disable", lambda p: {"password": p}, True),
    "new-recovery-codes": ("/account/settings/two-factor/recovery-codes",
                           lambda p: {"password": p}, True),
    "delete-account": ("/account/settings/delete", lambda p: {"password": p}, False),
}
REENTRY_BURST = 20


@pytest.mark.parametrize("page", list(REENTRY))
def test_password_reentry_pages_are_throttled_under_a_burst(page, live_url, make_merchant,
                                                            session, hasher, clock):
    path, fields, needs_2fa = REENTRY[page]
    merchant = make_merchant()
    browsers = []
    for _ in range(REENTRY_BURST):
        browser = Browser(live_url)
        assert browser.sign_in(merchant.email).url == live_url + "/account/"
        browser.open("/account/settings")
        browsers.append(browser)
    if needs_2fa:
        secret = pyotp.random_base32()
        twofactor.enable(session, merchant, secret, pyotp.TOTP(secret).now())
        session.commit()
    hasher.reset()
    answers = burst([lambda b=b: b.post(path, **fields("wrong password here"))
                     for b in browsers])
    assert hasher.verifications == FREE
    refused = [a for a in answers if a.status_code == 429]
    assert len(refused) == REENTRY_BURST - FREE
    assert "Too many password attempts" in refused[0].text
    assert refused[0].headers["Retry-After"] == "1"
    assert _row(session, throttle.account_key(merchant.email)).failures == FREE
    # Even the right password waits now, and nothing changes.
    assert browsers[0].post(path, **fields(PASSWORD)).status_code == 429
    session.expire_all()
    kept = session.get(Merchant, merchant.id)
    assert kept is not None and passwords.verify_password(kept.password_hash, PASSWORD)[0]
    assert (kept.totp_secret is not None) == needs_2fa
    # After the wait the right password works and starts the account afresh.
    clock.advance(1)
    assert browsers[0].post(path, **fields(PASSWORD)).status_code in (200, 302)
    assert _row(session, throttle.account_key(merchant.email)) is None


def test_one_reset_link_used_by_six_requests_at_once_sets_one_password(
        live_url, make_merchant, session, app, monkeypatch):
    merchant = make_merchant()
    token = credentials.make_reset_token(app.config["SECRET_KEY"], merchant)
    Argon2Calls(monkeypatch, seconds=CHECK_TIME_S)  # hashing the new password takes as long
    browsers = [Browser(live_url) for _ in range(6)]
    for browser in browsers:
        assert browser.open(f"/account/reset/{token}").status_code == 200
    chosen = [f"new passphrase number {n}" for n in range(len(browsers))]
    answers = burst([lambda b=b, p=p: b.post(f"/account/reset/{token}", password=p, confirm=p)
                     for b, p in zip(browsers, chosen)])
    assert _statuses(answers) == {302: 1, 400: len(browsers) - 1}
    winner = chosen[next(i for i, a in enumerate(answers) if a.status_code == 302)]
    session.expire_all()
    stored = session.get(Merchant, merchant.id).password_hash
    assert [p for p in chosen if passwords.verify_password(stored, p)[0]] == [winner]
