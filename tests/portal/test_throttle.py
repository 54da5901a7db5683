"""Sign-in throttling: per account (exponential) and per address, unknown emails alike."""
from __future__ import annotations

from datetime import timedelta

import pytest

from oss_server.models import utcnow
from oss_server.services import throttle
from tests.conftest import PASSWORD


def test_account_delay_grows_from_one_second_to_fifteen_minutes(session):
    key, now = throttle.account_key("a@example.com"), utcnow()
    for _ in range(4):
        throttle.record_failure(session, key, throttle.ACCOUNT, now)
    assert throttle.wait_seconds(session, [key], now) == 0
    waits = []
    for _ in range(16):
        throttle.record_failure(session, key, throttle.ACCOUNT, now)
        waits.append(throttle.wait_seconds(session, [key], now))
    assert waits[:5] == [1, 2, 4, 8, 16]
    assert waits[-1] == 15 * 60
    assert throttle.wait_seconds(session, [key], now + timedelta(minutes=15, seconds=1)) == 0


def test_success_clears_the_account_counter(portal, make_merchant, session):
    merchant = make_merchant()
    for _ in range(3):
        portal.login(merchant.email, "wrong password here")
    assert portal.login(merchant.email).status_code == 302
    session.expire_all()
    assert session.get(throttle.LoginThrottle, throttle.account_key(merchant.email)) is None


@pytest.fixture
def frozen_clock(monkeypatch):
    """Stop the throttle's clock, so a 1 s lock cannot run out between two requests."""
    now = utcnow()
    monkeypatch.setattr(throttle, "utcnow", lambda: now)
    return now


@pytest.mark.parametrize("known", [True, False], ids=["known", "unknown"])
def test_five_failures_lock_the_account_known_or_not(portal, make_merchant, known,
                                                      frozen_clock):
    email = make_merchant().email if known else "nobody@example.com"
    for _ in range(5):
        assert portal.login(email, "wrong password here").status_code == 200
    response = portal.login(email, PASSWORD)  # even the right password waits
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert "Too many sign-in attempts" in response.get_data(as_text=True)


def test_lock_does_not_spill_over_to_other_accounts(portal, make_merchant):
    victim, other = make_merchant(), make_merchant()
    for _ in range(5):
        portal.login(victim.email, "wrong password here")
    assert portal.login(other.email).status_code == 302


def test_per_address_limit_across_accounts(portal, make_merchant, monkeypatch):
    monkeypatch.setattr(throttle, "ADDRESS", throttle.Policy(
        free_failures=3, window=timedelta(minutes=15), exponential=False))
    merchant = make_merchant()
    for n in range(3):
        assert portal.login(f"guess{n}@example.com", "wrong password here").status_code == 200
    refused = portal.login(merchant.email, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    elsewhere = portal.login(merchant.email, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert elsewhere.status_code == 302


def test_counters_live_in_the_database(session, portal):
    portal.login("nobody@example.com", "wrong password here")
    session.expire_all()
    keys = {row.key for row in session.scalars(
        throttle.select(throttle.LoginThrottle))}
    assert keys == {"account:nobody@example.com", "ip:127.0.0.1"}


def test_counters_past_their_window_are_forgotten(session, portal, monkeypatch):
    now = utcnow()
    old, locked = throttle.account_key("old@example.com"), throttle.account_key("l@example.com")
    session.add_all([
        throttle.LoginThrottle(key=old, failures=3, window_start=now - timedelta(hours=25)),
        throttle.LoginThrottle(key=locked, failures=30, window_start=now - timedelta(hours=25),
                               locked_until=now + timedelta(minutes=5))])
    session.commit()
    monkeypatch.setattr(throttle, "_pruned_at", [float("-inf")])
    portal.login("someone@example.com", "wrong password here")
    session.expire_all()
    assert session.get(throttle.LoginThrottle, old) is None
    assert session.get(throttle.LoginThrottle, locked) is not None  # its lock still holds
    assert session.get(throttle.LoginThrottle, throttle.account_key("someone@example.com"))
