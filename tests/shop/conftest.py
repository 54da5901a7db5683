"""Shopper-page fixtures: a store with orders, and a shopper who fills the form in."""
from __future__ import annotations

import re

import pytest

from oss_server.services.updates import apply_updates
from tests.conftest import TEST_FACTOR_KEY, make_update


def csrf_token(html: str) -> str:
    """Return the CSRF token of the form in *html*."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def strip_volatile(html: str, *echoed: str) -> str:
    """Remove the CSRF token and the echoed input, to compare two pages byte for byte."""
    html = re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", html)
    for text in echoed:
        html = html.replace(f'value="{text}"', 'value="<echo>"')
    return html


@pytest.fixture
def add_order(session):
    """Store one order snapshot in *store* (fields as in the wire protocol)."""
    counter = iter(range(1, 10_000))

    def add(store, update_id=None, **order):
        n = next(counter)
        update = make_update(update_id or f"t-{store.id}-{n}", sequence=n,
                             occurred_at=f"2026-11-20T10:{n % 60:02d}:00+00:00", **order)
        result = apply_updates(session, store, [update], factor_key=TEST_FACTOR_KEY)
        session.commit()
        assert result.results[0]["result"] == "applied", result.results
        return update
    return add


@pytest.fixture
def store(make_store):
    return make_store(slug="acme", name="Acme Outfitters", support_email="help@acme.example",
                      support_phone="+1 555 0100")


@pytest.fixture
def order(store, add_order):
    """Order 1001 / cart W-1001, billed to ZIP 10001-1234, Pat@Example.com, +1 (212) 555-0199."""
    return add_order(store)


class Shopper:
    """Fill the lookup form in the way a browser does: GET it, then POST with its token."""

    def __init__(self, client):
        self.client = client

    def form(self, slug, **query):
        return self.client.get(f"/s/{slug}/", query_string=query)

    def lookup(self, slug, number, verifier, token=True, headers=None):
        data = {"order_number": number, "verifier": verifier}
        if token:
            page = self.form(slug)
            if 'name="csrf_token"' in page.get_data(as_text=True):
                data["csrf_token"] = csrf_token(page.get_data(as_text=True))
        return self.client.post(f"/s/{slug}/lookup", data=data, headers=headers or {})


@pytest.fixture
def shopper(client):
    return Shopper(client)
