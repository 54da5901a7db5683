"""Password-reset requests are limited per account (silently) and per address."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from oss_server.models import LoginThrottle, OutboxEmail
from oss_server.models.outbox import PASSWORD_RESET
from oss_server.services import throttle

GENERIC = "If an account uses that email, a reset link is on its way."


def _reset_emails(session, to=None) -> int:
    session.expire_all()
    query = select(func.count()).select_from(OutboxEmail).where(OutboxEmail.kind == PASSWORD_RESET)
    if to:
        query = query.where(OutboxEmail.recipient == to)
    return session.scalar(query)


def _ask(portal, email, address="127.0.0.1"):
    return portal.post("/account/reset", {"email": email}, environ_base={"REMOTE_ADDR": address})


def _answer(portal, response) -> str:
    """The page the browser ends on, with the flashed message."""
    assert response.status_code == 302, response.get_data(as_text=True)
    return portal.get(response.headers["Location"]).get_data(as_text=True)


def test_at_most_three_reset_emails_an_hour_per_account(portal, make_merchant, session):
    merchant = make_merchant()
    pages = [_answer(portal, _ask(portal, merchant.email)) for _ in range(6)]
    assert _reset_emails(session, merchant.email) == 3
    # The refused requests answer exactly like the accepted ones: nothing is disclosed.
    assert all(GENERIC in page for page in pages)
    assert len({re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", page)
                for page in pages}) == 1
    # The count is by account, whatever the case and spaces typed.
    assert _answer(portal, _ask(portal, f"  {merchant.email.upper()} "))
    assert _reset_emails(session, merchant.email) == 3


def test_a_throttled_account_and_an_unknown_email_answer_alike(portal, make_merchant, session):
    merchant = make_merchant()
    for _ in range(3):
        _ask(portal, merchant.email)
    throttled, unknown = _ask(portal, merchant.email), _ask(portal, "nobody@example.com")
    assert throttled.status_code == unknown.status_code == 302
    assert throttled.headers["Location"] == unknown.headers["Location"]
    assert throttled.get_data() == unknown.get_data()
    assert _reset_emails(session) == 3


def test_the_account_limit_is_per_account_and_lifts_after_the_hour(portal, make_merchant,
                                                                   session):
    merchant, other = make_merchant(), make_merchant()
    for _ in range(4):
        _ask(portal, merchant.email)
    _ask(portal, other.email)
    assert (_reset_emails(session, merchant.email), _reset_emails(session, other.email)) == (3, 1)
    # The counters are rows in the database (shared by every worker), not process memory.
    row = session.get(LoginThrottle, "reset:" + throttle.account_key(merchant.email))
    assert row is not None and row.locked_until is not None
    row.window_start -= timedelta(hours=1, minutes=1)
    row.locked_until -= timedelta(hours=1, minutes=1)
    session.commit()
    _ask(portal, merchant.email)
    assert _reset_emails(session, merchant.email) == 4


def test_reset_requests_do_not_lock_sign_in(portal, make_merchant):
    merchant = make_merchant()
    for _ in range(6):
        _ask(portal, merchant.email)
    assert portal.login(merchant.email).status_code == 302


def test_per_address_limit_across_emails(portal, make_merchant, session, monkeypatch):
    monkeypatch.setattr(throttle, "RESET_PER_ADDRESS", throttle.Policy(
        free_failures=4, window=timedelta(hours=1), exponential=False))
    merchant = make_merchant()
    for n in range(3):
        assert _ask(portal, f"guess{n}@example.com", "198.51.100.7").status_code == 302
    refused = _ask(portal, merchant.email, "198.51.100.7")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert "Too many reset requests" in refused.get_data(as_text=True)
    assert _reset_emails(session) == 0
    # Another address is not affected.
    assert _ask(portal, merchant.email, "203.0.113.9").status_code == 302
    assert _reset_emails(session, merchant.email) == 1
