"""The lookup form: matching rules, one failure message, CSRF, tenants, store states."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.shop.conftest import csrf_token, strip_volatile

NUMBERS = ["1001", " 1001 ", "W-1001", "w-1001", "  W-1001\t"]
VERIFIERS = [
    "10001", "10001-1234", "100011234", " 10001 ", "10001 1234",           # ZIP and ZIP+4
    "pat@example.com", " PAT@EXAMPLE.COM ", "Pat@Example.com",             # email
    "(212) 555-0199", "212.555.0199", "+1 212 555 0199", "12125550199",    # phone
    "001 212-555-0199",
]


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_each_factor_form_matches_order_and_cart_number(shopper, order, verifier):
    for number in NUMBERS:
        response = shopper.lookup("acme", number, verifier)
        assert response.status_code == 303, (number, response.get_data(as_text=True))
        assert "/s/acme/o/" in response.headers["Location"]


@pytest.mark.parametrize("verifier", ["10002", "pat@example.org", "212 555 0198", "1001", "x"])
def test_wrong_verifiers_fail(shopper, order, verifier):
    response = shopper.lookup("acme", "1001", verifier)
    assert response.status_code == 200
    assert "could not find an order" in response.get_data(as_text=True)


def test_canadian_and_uk_postcodes_ignore_case_and_spaces(shopper, store, add_order):
    add_order(store, order_number="C-1", cart_order_number=None,
              bill_to={"name": "Kim", "zip": "K1A 0B1"})
    add_order(store, order_number="U-1", cart_order_number=None,
              bill_to={"name": "Sam", "zip": "SW1A 1AA"})
    assert shopper.lookup("acme", "c-1", "k1a0b1").status_code == 303
    assert shopper.lookup("acme", "U-1", "sw1a 1aa").status_code == 303
    assert shopper.lookup("acme", "U-1", "SW1A 1AB").status_code == 200


def test_a_factor_the_store_turned_off_never_matches(shopper, order, store, session):
    store.allow_zip = False
    session.commit()
    assert shopper.lookup("acme", "1001", "10001").status_code == 200
    assert shopper.lookup("acme", "1001", "pat@example.com").status_code == 303


def test_unknown_order_and_wrong_verifier_answer_the_same_bytes(shopper, order):
    unknown = shopper.lookup("acme", "9999", "10001")
    wrong = shopper.lookup("acme", "1001", "99999")
    assert unknown.status_code == wrong.status_code == 200
    assert unknown.headers.get("Content-Type") == wrong.headers.get("Content-Type")
    a = strip_volatile(unknown.get_data(as_text=True), "9999")
    b = strip_volatile(wrong.get_data(as_text=True), "1001")
    assert a == b
    assert "99999" not in wrong.get_data(as_text=True)  # the verifier is never echoed


def test_both_failures_do_the_same_factor_work(monkeypatch, session, store, order):
    from oss_server.security import factors
    from oss_server.services import lookup as lookup_service

    calls = []
    real = factors.matches
    monkeypatch.setattr(lookup_service, "matches", lambda a, b: calls.append(1) or real(a, b))
    lookup_service.lookup_order(session, store, "9999", "10001", "k")
    unknown = len(calls)
    calls.clear()
    lookup_service.lookup_order(session, store, "1001", "99999", "k")
    assert unknown == len(calls) == 3


def test_lookup_without_csrf_token_is_refused(shopper, order):
    response = shopper.lookup("acme", "1001", "10001", token=False)
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_empty_fields_are_asked_for_again(shopper, order):
    response = shopper.lookup("acme", "", "")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter your order number." in html
    assert 'aria-invalid="true"' in html


def test_store_b_never_finds_store_a_orders(shopper, make_store, store, order):
    make_store(slug="other", name="Other Shop")
    assert shopper.lookup("other", "1001", "10001").status_code == 200
    found = shopper.lookup("acme", "1001", "10001")
    token_url = found.headers["Location"].replace("/s/acme/", "/s/other/")
    response = shopper.client.get(token_url)
    assert response.status_code == 303  # a token for store A's order is no use on store B
    assert response.headers["Location"].endswith("/s/other/")


def test_unknown_store_is_a_404_page(client):
    response = client.get("/s/no-such-store/")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"


def test_lapsed_subscription_shows_a_polite_page(shopper, make_merchant, make_store, session,
                                                 add_order):
    merchant = make_merchant(paid_through=date.today() - timedelta(days=400))
    store = make_store(merchant=merchant, slug="lapsed", name="Lapsed Ltd")
    add_order(store)
    for response in (shopper.form("lapsed"), shopper.lookup("lapsed", "1001", "10001")):
        html = response.get_data(as_text=True)
        assert response.status_code in (200, 400)
        assert "Order status unavailable" in html
        assert "Lapsed Ltd" in html
    # The page's stylesheet still loads (a page instead would be refused by nosniff).
    theme = shopper.client.get("/s/lapsed/theme.css")
    assert theme.status_code == 200 and theme.mimetype == "text/css"
    assert shopper.client.get("/s/nowhere/theme.css").status_code == 404


def test_form_page_has_security_headers_and_no_inline_code(shopper, store):
    response = shopper.form("acme")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    html = response.get_data(as_text=True)
    assert "<script" not in html and "style=" not in html and "<style" not in html
    assert 'method="post"' in html


def test_hsts_only_behind_tls(shopper, store):
    assert "Strict-Transport-Security" not in shopper.form("acme").headers
    secure = shopper.client.get("/s/acme/", base_url="https://localhost")
    assert "max-age=" in secure.headers["Strict-Transport-Security"]


def test_store_branding_on_the_form(shopper, store, session):
    store.accent_color = "#7c2d12"
    store.logo_url = "https://cdn.acme.example/logo.png"
    session.commit()
    response = shopper.form("acme")
    html = response.get_data(as_text=True)
    assert "Acme Outfitters" in html and "help@acme.example" in html and "+1 555 0100" in html
    assert "https://cdn.acme.example/logo.png" in html
    assert "img-src 'self' https://cdn.acme.example" in response.headers["Content-Security-Policy"]
    theme = shopper.client.get("/s/acme/theme.css")
    assert theme.mimetype == "text/css" and "#7c2d12" in theme.get_data(as_text=True)


def test_light_accent_colours_keep_text_readable(shopper, store, session):
    store.accent_color = "#fde68a"
    session.commit()
    css = shopper.client.get("/s/acme/theme.css").get_data(as_text=True)
    assert "--accent" not in css and "#111827" in css


def test_factors_never_reach_the_log(shopper, order, caplog):
    caplog.set_level("DEBUG")
    shopper.lookup("acme", "1001", "pat@example.com")
    shopper.lookup("acme", "1001", "10001-1234")
    text = caplog.text.lower()
    assert "pat@example.com" not in text and "10001" not in text


@pytest.mark.parametrize("number, verifier, status", [
    ("1001", "10001", 303),
    ("  1001 ", " 10001 ", 303),
    ("1" * 64, "10001", 200),        # as long as an order number may be: looked up, not found
    ("1" * 65, "10001", 400),
    ("1001", "1" * 254, 200),
    ("1001", "1" * 255, 400),
    ("   ", "10001", 400),
    ("1001", "\t", 400),
])
def test_field_rules_decide_between_a_lookup_and_the_form_again(shopper, order, number, verifier,
                                                                 status):
    response = shopper.lookup("acme", number, verifier)
    assert response.status_code == status
    if status == 400:
        assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_missing_field_and_repeated_fields_are_read_as_the_form_reads_them(shopper, order):
    token = csrf_token(shopper.form("acme").get_data(as_text=True))
    post = shopper.client.post
    missing = post("/s/acme/lookup", data={"csrf_token": token, "order_number": "1001"})
    assert missing.status_code == 400
    assert "Enter the billing ZIP/postal code" in missing.get_data(as_text=True)
    first_wins = post("/s/acme/lookup", data={"csrf_token": token, "order_number": ["1001", "x"],
                                              "verifier": ["10001", "x"]})
    assert first_wins.status_code == 303


def test_a_json_body_with_the_token_header_is_read_like_the_form(shopper, order):
    token = csrf_token(shopper.form("acme").get_data(as_text=True))
    response = shopper.client.post("/s/acme/lookup", json={"order_number": "1001",
                                                           "verifier": "10001"},
                                   headers={"X-CSRFToken": token})
    assert response.status_code == 303
