"""Trials and subscriptions: a sign-up's plan, the banner, and renewal turning a trial annual."""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from oss_server.models import Merchant
from tests.conftest import PASSWORD


def _banner(html: str) -> str:
    """Return the text of the subscription banner (the notices before the page's content)."""
    header = html.split("<main", 1)[-1]
    notices = re.findall(r'<div class="notice[^"]*" role="(?:status|alert)">(.*?)</div>', header,
                         re.S)
    return " ".join(" ".join(n.split()) for n in notices)


def _sign_up(portal, email="trial@example.com"):
    response = portal.post("/account/signup", {"email": email, "password": PASSWORD,
                                               "confirm": PASSWORD})
    assert response.status_code == 302
    assert portal.login(email).status_code == 302
    return response


def test_signup_starts_a_trial_not_an_annual_plan(portal, session):
    _sign_up(portal)
    merchant = session.scalar(select(Merchant).where(Merchant.email == "trial@example.com"))
    assert merchant.plan == "trial"
    page = portal.get("/account/subscription").get_data(as_text=True)
    assert re.search(r"<dt>Plan</dt><dd>Trial</dd>", page)
    assert "<dd>Annual</dd>" not in page


def test_trial_banner_speaks_of_the_trial_not_of_renewing(portal, session, app):
    _sign_up(portal)
    banner = _banner(portal.get("/account/").get_data(as_text=True))
    days = app.config["OSS_TRIAL_DAYS"]
    assert f"Your trial ends in {days} days" in banner
    assert "subscribe" in banner.lower()
    assert "renew" not in banner.lower() and "paid through" not in banner.lower()


def test_trial_banner_on_its_last_day_and_after(portal, session, app):
    _sign_up(portal)
    merchant = session.scalar(select(Merchant).where(Merchant.email == "trial@example.com"))
    merchant.paid_through = date.today() + timedelta(days=1)
    session.commit()
    assert "Your trial ends in 1 day " in _banner(portal.get("/account/").get_data(as_text=True))
    merchant.paid_through = date.today()
    session.commit()
    assert "Your trial ends today" in _banner(portal.get("/account/").get_data(as_text=True))
    merchant.paid_through = date.today() - timedelta(days=1)
    session.commit()
    assert "Your trial ended on" in _banner(portal.get("/account/").get_data(as_text=True))
    merchant.paid_through = date.today() - timedelta(days=app.config["OSS_GRACE_DAYS"] + 1)
    session.commit()
    banner = _banner(portal.get("/account/").get_data(as_text=True))
    assert "Your trial has ended" in banner and "subscription has lapsed" not in banner


def test_paid_accounts_keep_the_renew_banner(make_merchant, signed_in):
    merchant = make_merchant(paid_through=date.today() + timedelta(days=10))
    assert merchant.plan == "annual"
    banner = _banner(signed_in(merchant).get("/account/").get_data(as_text=True))
    assert "Your subscription is paid through" in banner and "Renew" in banner
    assert "trial" not in banner.lower()


def test_renew_command_turns_a_trial_into_the_annual_plan(portal, session, runner):
    _sign_up(portal)
    result = runner.invoke(args=["renew", "trial@example.com", "--until", "2031-03-31"])
    assert result.exit_code == 0, result.output
    assert "annual" in result.output
    session.expire_all()
    merchant = session.scalar(select(Merchant).where(Merchant.email == "trial@example.com"))
    assert (merchant.plan, merchant.paid_through) == ("annual", date(2031, 3, 31))
    page = portal.get("/account/subscription").get_data(as_text=True)
    assert "<dd>Annual</dd>" in page
    assert "trial" not in _banner(portal.get("/account/").get_data(as_text=True)).lower()


def test_create_merchant_command_without_a_date_makes_a_trial(runner, session):
    result = runner.invoke(args=["create-merchant", "cli-trial@example.com"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-merchant", "cli-paid@example.com", "--paid-through",
                                 "2031-01-31"], input="a long enough password\n")
    assert result.exit_code == 0, result.output
    plans = dict(session.execute(select(Merchant.email, Merchant.plan)).all())
    assert plans == {"cli-trial@example.com": "trial", "cli-paid@example.com": "annual"}
