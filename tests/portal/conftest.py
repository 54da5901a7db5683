"""Portal fixtures: a browser-like client that carries CSRF tokens, and signed-in merchants."""
from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher

from oss_server.services import passwords
from tests.conftest import PASSWORD

_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                    r'name="csrf_token" value="([^"]+)"')


class Portal:
    """A test client used the way a browser uses the portal: forms carry their token.

    Each request runs in its own app context, as under a real server: otherwise the
    test's long-lived context would share ``g`` (the signed-in user, the CSRF token)
    and the database session between requests of different browsers.
    """

    def __init__(self, client):
        self.client = client

    def _request(self, method, path, **kwargs):
        with self.client.application.app_context():
            return getattr(self.client, method)(path, **kwargs)

    def token(self) -> str:
        """Fetch a page with a form and return its CSRF token."""
        html = self.get("/account/reset").get_data(as_text=True)
        match = _TOKEN.search(html)
        assert match, "no CSRF token on the page"
        return match.group(1) or match.group(2)

    def get(self, path, **kwargs):
        return self._request("get", path, **kwargs)

    def post(self, path, data=None, *, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token())
        return self._request("post", path, data=data, **kwargs)

    def login(self, email, password=PASSWORD, **kwargs):
        return self.post("/account/login", {"email": email, "password": password}, **kwargs)

    def logout(self):
        return self.post("/account/logout")


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """Hash with small argon2id parameters: the tests count hashes, they do not time them."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", cheap.hash("not-a-real-password"))


@pytest.fixture
def portal(client):
    return Portal(client)


@pytest.fixture
def new_portal(app):
    """Make another independent browser (its own cookies)."""
    return lambda: Portal(app.test_client())


@pytest.fixture
def signed_in(new_portal):
    """Return a Portal signed in as *merchant*."""
    def sign_in(merchant, password=PASSWORD):
        browser = new_portal()
        response = browser.login(merchant.email, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return browser
    return sign_in


@pytest.fixture
def clock(monkeypatch):
    """Move the portal's session clock: ``clock.advance(seconds)``."""
    from oss_server.portal import login as portal_login

    class Clock:
        now = portal_login.clock()

        def advance(self, seconds):
            self.now += seconds

    fake = Clock()
    monkeypatch.setattr(portal_login, "clock", lambda: fake.now)
    return fake
