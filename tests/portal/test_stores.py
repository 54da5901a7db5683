"""Stores: create, edit every setting, signing secrets, delete."""
from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import select

from oss_server.models import Store

SETTINGS = {"name": "Acme", "slug": "acme", "support_email": "help@acme.example",
            "support_phone": "+1 555 0100", "support_url": "https://acme.example/help",
            "logo_url": "https://acme.example/logo.png", "accent_color": "#123456",
            "allow_zip": "y", "allow_email": "y", "allowed_origins": "https://acme.example\n"
            "https://shop.acme.example", "retention_days": "90", "shopper_emails": "y"}


@pytest.fixture
def browser(signed_in, make_merchant):
    return signed_in(make_merchant())


def _store(session, slug="acme") -> Store:
    session.expire_all()
    return session.scalar(select(Store).where(Store.slug == slug))


def test_create_a_store_with_all_settings(browser, session):
    response = browser.post("/account/stores/new", SETTINGS)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/stores/acme/keys")
    store = _store(session)
    assert (store.name, store.support_email, store.accent_color, store.retention_days) == (
        "Acme", "help@acme.example", "#123456", 90)
    assert (store.allow_zip, store.allow_email, store.allow_phone) == (True, True, False)
    assert store.allowed_origins == ["https://acme.example", "https://shop.acme.example"]
    assert store.shopper_emails and not store.require_signature


@pytest.mark.parametrize("field,value,message", [
    ("slug", "Not A Slug", "lower-case"), ("accent_color", "blue", "#rrggbb"),
    ("allowed_origins", "javascript:alert(1)", "Not an origin"),
    ("retention_days", "7", "between 30 and 730"),
])
def test_invalid_settings_are_explained(browser, session, field, value, message):
    response = browser.post("/account/stores/new", {**SETTINGS, field: value})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _store(session) is None


def test_slugs_are_unique_across_merchants(browser, make_store):
    make_store(slug="acme")
    response = browser.post("/account/stores/new", SETTINGS)
    assert "That slug is taken" in response.get_data(as_text=True)


def test_edit_settings(browser, session):
    browser.post("/account/stores/new", SETTINGS)
    response = browser.post("/account/stores/acme", {**SETTINGS, "name": "Acme Two",
                                                     "retention_days": "365"})
    assert response.status_code == 302
    store = _store(session)
    assert (store.name, store.retention_days, store.shopper_emails, store.allow_email) == (
        "Acme Two", 365, True, True)
    browser.post("/account/stores/acme", {**SETTINGS, "shopper_emails": "", "allow_email": ""})
    store = _store(session)
    assert not store.shopper_emails and not store.allow_email


def test_signatures_need_a_secret_which_is_shown_once_and_rotates(browser, session):
    browser.post("/account/stores/new", SETTINGS)
    response = browser.post("/account/stores/acme", {**SETTINGS, "require_signature": "y"})
    assert "Create a signing secret" in response.get_data(as_text=True)
    assert not _store(session).require_signature
    first = browser.post("/account/stores/acme/signing-secret").get_data(as_text=True)
    assert _store(session).signing_secrets[0] in first
    assert browser.post("/account/stores/acme", {**SETTINGS, "require_signature": "y"}
                        ).status_code == 302
    page = browser.get("/account/stores/acme").get_data(as_text=True)
    old = _store(session).signing_secrets[0]
    assert old not in page  # only a hint of it
    browser.post("/account/stores/acme/signing-secret")
    store = _store(session)
    assert len(store.signing_secrets) == 2 and store.signing_secrets[1] == old
    browser.post("/account/stores/acme/signing-secret/retire")
    assert _store(session).signing_secrets == store.signing_secrets[:1]


def test_delete_a_store(browser, session, client):
    browser.post("/account/stores/new", SETTINGS)
    assert browser.post("/account/stores/acme/delete").status_code == 302
    assert _store(session) is None
    assert browser.get("/account/stores/acme").status_code == 404


ONTRAC = [{"carrier": "OnTrac", "url": "https://www.ontrac.com/tracking/?number={n}",
           "patterns": ["C##############"], "check": "none"}]


def test_edit_extra_carriers(browser, session):
    browser.post("/account/stores/new", SETTINGS)
    page = browser.get("/account/stores/acme").get_data(as_text=True)
    # A labelled field with its hint tied to it.
    assert '<label for="carrier_rules">Extra carriers (JSON)</label>' in page
    assert 'aria-describedby="carrier_rules-hint"' in page
    response = browser.post("/account/stores/acme", {**SETTINGS,
                                                     "carrier_rules": json.dumps(ONTRAC)})
    assert response.status_code == 302
    assert _store(session).carrier_rules == ONTRAC
    page = browser.get("/account/stores/acme").get_data(as_text=True)
    assert "https://www.ontrac.com/tracking/?number={n}" in page
    # Saving the page as shown keeps the rules; emptying the field removes them.
    shown = re.search(r'<textarea[^>]*name="carrier_rules"[^>]*>\s*(.*?)</textarea>', page, re.S)
    assert json.loads(html.unescape(shown.group(1))) == ONTRAC
    browser.post("/account/stores/acme", {**SETTINGS, "carrier_rules": html.unescape(
        shown.group(1))})
    assert _store(session).carrier_rules == ONTRAC
    browser.post("/account/stores/acme", {**SETTINGS, "carrier_rules": ""})
    assert _store(session).carrier_rules == []


@pytest.mark.parametrize("value,message", [
    ('[{"carrier": "OnTrac",', "Carrier rules are not valid JSON"),
    ('[{"carrier": "OnTrac", "url": "https://ontrac.example/"}]',
     "OnTrac: the URL must start with https:// and contain {n}."),
])
def test_bad_extra_carriers_are_explained_and_kept(browser, session, value, message):
    browser.post("/account/stores/new", SETTINGS)
    browser.post("/account/stores/acme", {**SETTINGS, "carrier_rules": json.dumps(ONTRAC)})
    response = browser.post("/account/stores/acme", {**SETTINGS, "name": "Renamed",
                                                     "carrier_rules": value})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    error = re.search(r'<p class="field-error" id="carrier_rules-error">(.*?)</p>', page, re.S)
    assert error and message in html.unescape(error.group(1))
    assert 'aria-invalid="true"' in page
    kept = re.search(r'<textarea[^>]*name="carrier_rules"[^>]*>\s*(.*?)</textarea>', page, re.S)
    assert html.unescape(kept.group(1)) == value  # what was typed is kept for correcting
    store = _store(session)
    assert store.carrier_rules == ONTRAC and store.name == "Acme"


def test_extra_carriers_need_the_csrf_token_and_the_owner(browser, signed_in, make_merchant,
                                                          session):
    browser.post("/account/stores/new", SETTINGS)
    forged = browser.post("/account/stores/acme", {**SETTINGS,
                                                   "carrier_rules": json.dumps(ONTRAC)},
                          csrf=False)
    assert forged.status_code in (200, 400)
    assert _store(session).carrier_rules == []
    other = signed_in(make_merchant())
    stranger = other.post("/account/stores/acme", {**SETTINGS,
                                                   "carrier_rules": json.dumps(ONTRAC)})
    assert stranger.status_code == 404
    assert _store(session).carrier_rules == []
