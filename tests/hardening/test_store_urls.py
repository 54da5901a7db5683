"""Store settings cannot carry code: hostile addresses refused or re-built on every write path,
and rows stored before the rules left out of pages, emails and the CSP header."""
from __future__ import annotations

import html
import re

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from oss_server.models import Order, Store
from oss_server.security import urls
from oss_server.services import accounts, passwords
from oss_server.services.status_email import compose_status_email
from tests.conftest import make_update
from tests.portal.conftest import Portal
from tests.shop.conftest import add_order  # noqa: F401  (fixture)

BASE = {"name": "Acme", "slug": "acme", "retention_days": "90", "allow_zip": "y"}
CSP_DIRECTIVES = {"default-src", "script-src", "img-src", "object-src", "base-uri",
                  "form-action", "frame-ancestors"}

# (setting, value): each one is how a merchant could try to get code or a header onto
# another party's page.
HOSTILE = [
    ("logo_url", "https://cdn.evil.test;script-src 'unsafe-inline'/l.png"),
    ("logo_url", "https://cdn.evil.test/l.png; script-src *"),
    ("logo_url", "javascript:alert(1)"),
    ("logo_url", "data:image/svg+xml,<svg onload=alert(1)>"),
    ("logo_url", "https://cdn.example/\"onerror=\"alert(1)"),
    ("logo_url", "https://cdn.example/a b.png"),
    ("logo_url", "https://cdn.example/a\r\nX-Injected: 1"),
    ("logo_url", "https://user:pass@cdn.example/l.png"),
    ("logo_url", "http://cdn.example/l.png"),
    ("logo_url", "//cdn.example/l.png"),
    ("support_url", "javascript:alert(1)"),
    ("support_url", "JaVaScRiPt:alert(document.cookie)"),
    ("support_url", " javascript:alert(1)"),
    ("support_url", "java\tscript:alert(1)"),
    ("support_url", "data:text/html,<script>alert(1)</script>"),
    ("support_url", "vbscript:msgbox(1)"),
    ("support_url", "https://help.example/x'onmouseover='alert(1)"),
    ("support_url", "https://help.example\\@evil.test/"),
    ("support_url", "https://help.example/\u202egnp.exe"),
    ("support_url", "mailto:a@b.test?bcc=victim@evil.test"),
    ("support_url", "mailto:"),
    ("support_email", "a@b.test, victim@evil.test"),
    ("support_email", "a@b.test\r\nBcc: x@evil.test"),
    ("support_email", "\"><script>alert(1)</script>@x.test"),
    ("accent_color", "red;} body{background:url(//evil.test)"),
    ("accent_color", "#12345g"),
]


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", cheap.hash("not-a-real-password"))


@pytest.fixture
def browser(app, make_merchant):
    portal = Portal(app.test_client())
    assert portal.login(make_merchant().email).status_code == 302
    return portal


def _store(session, slug="acme") -> Store | None:
    session.expire_all()
    return session.scalar(select(Store).where(Store.slug == slug))


def _csp_parts(csp: str) -> dict[str, list[str]]:
    parts = {}
    for directive in csp.split(";"):
        name, *sources = directive.split()
        parts[name] = sources
    return parts


def _field_error(page: str, name: str) -> str:
    match = re.search(rf'<p class="field-error" id="{name}-error">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)) if match else ""


@pytest.mark.parametrize("name,value", HOSTILE)
def test_service_refuses_hostile_values(make_store, name, value):
    store = make_store(slug="acme")
    with pytest.raises(accounts.AccountError):
        accounts.set_store_setting(store, name, value)
    assert getattr(store, name) is None


@pytest.mark.parametrize("name,value", HOSTILE)
def test_portal_form_refuses_hostile_values(browser, session, name, value):
    response = browser.post("/account/stores/new", {**BASE, name: value})
    assert response.status_code == 200
    assert _field_error(response.get_data(as_text=True), name)
    assert _store(session) is None


@pytest.mark.parametrize("name,value", HOSTILE)
def test_cli_refuses_hostile_values(runner, make_store, session, name, value):
    store = make_store(slug="acme")
    result = runner.invoke(args=["store-settings", "acme", "--set", f"{name}={value}"])
    assert result.exit_code != 0
    session.expire_all()
    assert getattr(session.get(Store, store.id), name) is None


def test_addresses_are_stored_rebuilt(browser, session, client, runner):
    response = browser.post("/account/stores/new", {
        **BASE, "logo_url": "HTTPS://Bücher.Example:443/logo.png",
        "support_url": "https://help.example/Hilfe?q=ü", "support_email": "Help@Bücher.example"})
    assert response.status_code == 302, response.get_data(as_text=True)
    store = _store(session)
    assert store.logo_url == "https://xn--bcher-kva.example/logo.png"
    assert store.support_url == "https://help.example/Hilfe?q=%C3%BC"
    assert store.support_email == "Help@xn--bcher-kva.example"
    result = runner.invoke(args=["store-settings", "acme", "--set",
                                 "support_url=help@acme.example"])
    assert result.exit_code == 0, result.output
    assert "support_url = mailto:help@acme.example" in result.output
    page = client.get("/s/acme/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'src="https://xn--bcher-kva.example/logo.png"' in text
    assert 'href="mailto:help@acme.example"' in text
    assert 'href="mailto:Help@xn--bcher-kva.example"' in text
    csp = _csp_parts(page.headers["Content-Security-Policy"])
    assert csp["img-src"] == ["'self'", "https://xn--bcher-kva.example"]


def test_idna_logo_stored_before_the_rules_still_answers(client, make_store, session):
    # As the portal stored it before: typed as is. Every page of the store answered 500.
    store = make_store(slug="acme")
    store.logo_url = "https://bücher.example/logo.png"
    session.commit()
    page = client.get("/s/acme/")
    assert page.status_code == 200
    assert 'src="https://xn--bcher-kva.example/logo.png"' in page.get_data(as_text=True)
    assert "img-src 'self' https://xn--bcher-kva.example;" in page.headers[
        "Content-Security-Policy"]


def test_http_only_for_localhost_and_never_in_production(app, make_store):
    store = make_store(slug="acme")
    accounts.set_store_setting(store, "logo_url", "http://127.0.0.1:8000/logo.png")
    assert store.logo_url == "http://127.0.0.1:8000/logo.png"
    with pytest.raises(accounts.AccountError, match="https://"):
        accounts.set_store_setting(store, "logo_url", "http://cdn.example/logo.png")
    app.config["OSS_ENV"] = "production"
    try:
        with pytest.raises(accounts.AccountError, match="https://"):
            accounts.set_store_setting(store, "logo_url", "http://localhost/logo.png")
    finally:
        app.config["OSS_ENV"] = "testing"


@pytest.fixture
def old_hostile_store(make_store, session):
    """A store whose rows were written before the rules (or straight into the database)."""
    store = make_store(slug="acme", support_phone="+1 555 0100")
    store.logo_url = "https://cdn.evil.test;script-src 'unsafe-inline'/l.png"
    store.support_url = "javascript:fetch('/account/')"
    store.support_email = 'x@y.test" onmouseover="alert(1)'
    store.accent_color = "red;}*{"  # the column holds 7 characters
    store.allowed_origins = ["https://shop.example", "https://x.test; script-src *"]
    session.commit()
    return store


def test_stored_hostile_values_are_left_out_of_pages_and_headers(client, old_hostile_store):
    page = client.get("/s/acme/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "javascript:" not in text and "evil.test" not in text
    assert "onmouseover" not in text and 'class="store-logo"' not in text
    assert 'href="tel:+15550100"' in text  # the valid contact is still shown
    csp = page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "evil" not in csp and "x.test" not in csp
    parts = _csp_parts(csp)
    assert set(parts) == CSP_DIRECTIVES
    assert parts["script-src"] == ["'self'"] and parts["img-src"] == ["'self'"]
    assert parts["frame-ancestors"] == ["https://shop.example"]
    theme = client.get("/s/acme/theme.css")
    assert theme.status_code == 200 and "red;}" not in theme.get_data(as_text=True)


def test_stored_hostile_values_are_left_out_of_the_json_lookup(client, old_hostile_store,
                                                                add_order):
    add_order(old_hostile_store)
    response = client.post("/api/v1/lookup", json={"store": "acme", "order_number": "1001",
                                                   "verifier": "10001"})
    assert response.status_code == 200, response.get_data(as_text=True)
    shown = response.get_json()["store"]
    assert (shown["logo_url"], shown["support_url"], shown["support_email"],
            shown["accent_color"]) == (None, None, None, None)


def test_stored_hostile_values_are_left_out_of_emails(old_hostile_store):
    email = compose_status_email(old_hostile_store, Order(id=1, order_number="1001"),
                                 make_update(status="Shipped"),
                                 status_url="https://status.example/s/acme/o/t")
    for text in (email.html, email.text):
        assert "javascript:" not in text and "evil.test" not in text
        assert "onmouseover" not in text


def test_portal_warns_about_stored_values_to_correct(app, make_merchant, make_store, session):
    merchant = make_merchant()
    store = make_store(merchant=merchant, slug="acme")
    store.support_url = "javascript:alert(1)"
    session.commit()
    browser = Portal(app.test_client())
    browser.login(merchant.email)
    page = browser.get("/account/stores/acme").get_data(as_text=True)
    assert 'id="stored-problems"' in page and "Support page: Use an https:// address" in page
    store.support_url = "https://acme.example/help"
    session.commit()
    assert 'id="stored-problems"' not in browser.get("/account/stores/acme").get_data(
        as_text=True)


@pytest.mark.parametrize("url", [
    "https://cdn.evil.test;script-src 'unsafe-inline'/l.png", "javascript:alert(1)",
    "https://a.test/x,script-src *", "https://a.test:1/\nx", "https://bücher.example/l.png",
    "https://[::1]:8443/l.png", "https://a.test:99999/l.png", "https://a.test%3Bx/l.png",
])
def test_csp_never_holds_more_than_host_sources(client, make_store, session, url):
    store = make_store(slug="acme")
    store.logo_url = url
    session.commit()
    page = client.get("/s/acme/")
    assert page.status_code == 200
    parts = _csp_parts(page.headers["Content-Security-Policy"])
    assert set(parts) == CSP_DIRECTIVES
    for source in parts["img-src"][1:]:
        assert re.fullmatch(r"https://[a-z0-9.-]+(:\d+)?|https://\[[0-9a-f:]+\](:\d+)?", source)


def test_cli_warns_about_stored_values_to_correct(runner, old_hostile_store):
    result = runner.invoke(args=["store-settings", "acme"])
    assert result.exit_code == 0
    assert "warning: support_url is not shown to shoppers" in result.stderr
    assert "warning: logo_url is not shown to shoppers" in result.stderr


@pytest.mark.parametrize("typed,stored", [
    ("HTTPS://Acme.EXAMPLE:443/Help", "https://acme.example/Help"),
    ("https://acme.example", "https://acme.example/"),
    ("https://acme.example:8443/a?b=c&d=é#top", "https://acme.example:8443/a?b=c&d=%C3%A9#top"),
    ("https://bücher.example/straße.png", "https://xn--bcher-kva.example/stra%C3%9Fe.png"),
    ("https://[::1]:8443/l.png", "https://[::1]:8443/l.png"),
    ("https://a.example/%41%2F", "https://a.example/%41%2F"),
])
def test_addresses_are_rebuilt(typed, stored):
    assert urls.parse_web_url(typed, allow_local_http=False) == stored
    assert urls.parse_web_url(stored, allow_local_http=False) == stored  # stable


@pytest.mark.parametrize("typed", [
    "https://a.example/%zz", "https://a.example:0/", "https://a.example:65536/", "https://-a.example/",
    "https://a..example/", "https://intranet/", "https:/a.example/", "ftp://a.example/",
    "https://a.example/\u200b", "https://a.example/\u00a0x", "https://a.example/<x>",
    "https://a.example/`x`", "https://a.example/{n}", "https://" + "a" * 64 + ".example/",
])
def test_addresses_that_are_not_web_addresses_are_refused(typed):
    with pytest.raises(urls.UnsafeValue):
        urls.parse_web_url(typed, allow_local_http=True)
