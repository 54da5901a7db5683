"""Shopper pages and the portal on one origin: no page runs script but our own files, no
window keeps a handle on ours, and portal writes sent from another origin are refused."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from oss_server.models import ApiKey
from oss_server.services import passwords
from tests.portal.conftest import Portal

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", cheap.hash("not-a-real-password"))


@pytest.mark.parametrize("path", ["/", "/s/acme/", "/account/login", "/account/reset",
                                  "/s/no-such-store/", "/healthz"])
def test_every_page_allows_only_our_own_script_and_isolates_its_window(client, make_store,
                                                                       path):
    make_store(slug="acme")
    response = client.get(path)
    csp = {d.split()[0]: d.split()[1:] for d in
           response.headers["Content-Security-Policy"].split(";")}
    assert csp["script-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_no_template_has_inline_script_or_event_handlers():
    # The CSP would block them anyway; none is written, so it never has to.
    offending = []
    for template in (TEMPLATES / "shop", TEMPLATES / "portal", TEMPLATES):
        for path in template.glob("*.html"):
            text = path.read_text()
            offending += [f"{path.name}: {m}" for m in re.findall(r"<script(?![^>]*\ssrc=)[^>]*>",
                                                                  text)]
            offending += [f"{path.name}: {m}" for m in re.findall(r"\son[a-z]+\s*=", text)]
            offending += [f"{path.name}: {m}" for m in re.findall(r"javascript:", text, re.I)]
    assert offending == []


@pytest.fixture
def victim(app, make_merchant, make_store):
    merchant = make_merchant()
    store = make_store(merchant=merchant, slug="victim")
    browser = Portal(app.test_client())
    assert browser.login(merchant.email).status_code == 302
    return browser, store


def _keys(session, store) -> int:
    session.expire_all()
    return len(session.scalars(select(ApiKey).where(ApiKey.store_id == store.id)).all())


@pytest.mark.parametrize("site", ["cross-site", "same-site", "none"])
def test_portal_writes_from_another_origin_are_refused(victim, session, site):
    browser, store = victim
    # Even with the session cookie and a valid CSRF token (the worst case: a sibling host
    # that could read a token), the browser's word on where the request came from decides.
    response = browser.post("/account/stores/victim/keys", {"label": "x"},
                            headers={"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "navigate"})
    assert response.status_code == 403
    assert _keys(session, store) == 0
    # Reading is not a write: the page still opens from a link elsewhere.
    assert browser.get("/account/stores/victim/keys",
                       headers={"Sec-Fetch-Site": site}).status_code == 200


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "same-origin"}, {}])
def test_portal_writes_from_its_own_pages_and_old_clients_pass(victim, session, headers):
    browser, store = victim
    response = browser.post("/account/stores/victim/keys", {"label": "x"}, headers=headers)
    assert response.status_code == 200 and "oss_" in response.get_data(as_text=True)
    assert _keys(session, store) == 1


def test_sign_in_from_another_site_is_refused(app, make_merchant):
    merchant = make_merchant()
    browser = Portal(app.test_client())
    response = browser.login(merchant.email, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403


def test_shopper_pages_are_not_fetch_metadata_checked(client, make_store, session):
    # The lookup form is posted from embedding sites' frames too: only the portal is checked.
    make_store(slug="acme")
    response = client.post("/s/acme/lookup", data={}, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code != 403
