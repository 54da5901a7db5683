"""OSS_PORTAL_URL: the portal on a host of its own, where no shopper page is served."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from oss_server.security.origin import portal_host
from oss_server.services import passwords
from tests.conftest import PASSWORD
from tests.portal.conftest import _TOKEN

PORTAL, SHOP = "portal.example", "status.example"


@pytest.fixture
def app_config():
    return {"OSS_PORTAL_URL": f"https://{PORTAL}"}


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", cheap.hash("not-a-real-password"))


def _get(client, host, path, **kwargs):
    return client.get(path, base_url=f"https://{host}", **kwargs)


def test_portal_only_on_its_host(client, make_store):
    make_store(slug="acme")
    assert _get(client, PORTAL, "/account/login").status_code == 200
    moved = _get(client, SHOP, "/account/stores/acme/keys?x=1")
    assert moved.status_code == 308
    assert moved.headers["Location"] == f"https://{PORTAL}/account/stores/acme/keys?x=1"
    assert client.post("/account/login", base_url=f"https://{SHOP}").status_code == 404


def test_no_shopper_page_on_the_portal_host(client, make_store):
    make_store(slug="acme")
    assert _get(client, SHOP, "/s/acme/").status_code == 200
    assert _get(client, PORTAL, "/s/acme/").status_code == 404
    assert _get(client, PORTAL, "/s/acme/theme.css").status_code == 404


def test_portal_session_cookie_stays_on_the_portal_host(client, make_merchant):
    merchant = make_merchant()
    page = _get(client, PORTAL, "/account/login").get_data(as_text=True)
    match = _TOKEN.search(page)
    response = client.post("/account/login", base_url=f"https://{PORTAL}", data={
        "email": merchant.email, "password": PASSWORD,
        "csrf_token": match.group(1) or match.group(2)},
        headers={"Referer": f"https://{PORTAL}/account/login"})  # Flask-WTF's HTTPS check
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    # No Domain attribute: the browser sends it back to this host only.
    assert "domain=" not in cookie.lower() and "samesite=lax" in cookie.lower()
    assert _get(client, PORTAL, "/account/").status_code == 200
    assert client.get_cookie("session", domain=SHOP) is None


@pytest.mark.parametrize("url,host", [
    ("https://portal.example", "portal.example"), ("https://Portal.Example:443/", "portal.example"),
    ("http://127.0.0.1:8001", "127.0.0.1:8001"), ("", None),
])
def test_portal_url_setting(url, host):
    assert portal_host(url) == host


def test_a_portal_url_that_is_not_one_fails_loudly():
    with pytest.raises(ValueError):
        portal_host("portal.example")


def test_reset_links_are_sent_for_the_portal_host(app, make_merchant, monkeypatch):
    sent = []
    monkeypatch.setattr("oss_server.services.credentials.send_reset_link",
                        lambda _s, _k, _email, link_for: sent.append(link_for("tok")))
    merchant = make_merchant()
    client = app.test_client()
    with app.app_context():  # a request's own context, as under a server (see Portal)
        html = _get(client, PORTAL, "/account/reset").get_data(as_text=True)
    match = _TOKEN.search(html)
    with app.app_context():
        response = client.post("/account/reset", base_url=f"https://{PORTAL}", data={
            "email": merchant.email, "csrf_token": match.group(1) or match.group(2)},
            headers={"Referer": f"https://{PORTAL}/account/reset"})
    assert response.status_code == 302
    assert sent == [f"https://{PORTAL}/account/reset/tok"]
