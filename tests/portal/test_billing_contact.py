"""OSS_BILLING_CONTACT: every "contact us" in the portal says how."""
from __future__ import annotations

from datetime import date, timedelta

import pytest


@pytest.fixture
def app_config():
    return {"OSS_BILLING_CONTACT": "billing@operator.example"}


def test_contact_us_links_the_billing_contact(make_merchant, signed_in):
    merchant = make_merchant(paid_through=date.today() - timedelta(days=60))
    page = signed_in(merchant).get("/account/subscription").get_data(as_text=True)
    assert page.count('<a href="mailto:billing@operator.example">contact us</a>') == 2
    assert "contact us and" not in page  # no bare "contact us" left


def test_dates_read_one_way(make_merchant, signed_in):
    merchant = make_merchant(paid_through=date(2031, 3, 9))
    page = signed_in(merchant).get("/account/subscription").get_data(as_text=True)
    assert '<time datetime="2031-03-09">Mar 9, 2031</time>' in page


@pytest.mark.parametrize("contact, shown", [
    ("https://operator.example/billing",
     '<a href="https://operator.example/billing">contact us</a>'),
    ("javascript:alert(1)", "contact us (javascript:alert(1))"),
])
def test_a_url_contact_is_linked_only_when_it_is_a_web_address(app, contact, shown,
                                                               make_merchant, signed_in):
    app.config["OSS_BILLING_CONTACT"] = contact
    page = signed_in(make_merchant()).get("/account/subscription").get_data(as_text=True)
    assert shown in page
