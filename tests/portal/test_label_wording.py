"""What the Labels page promises for a hidden label is what shoppers read."""
from __future__ import annotations

import re

import pytest

from oss_server.services.labels import set_label_wording
from oss_server.services.updates import apply_updates
from tests.conftest import TEST_FACTOR_KEY, make_update


@pytest.fixture
def hidden_order(session, make_merchant, make_store):
    """Order 1001 (ZIP 10001) whose only status is a hidden "Fraud Review"."""
    merchant = make_merchant()
    store = make_store(merchant=merchant, slug="acme", name="Acme")
    update = make_update(status="Fraud Review")
    result = apply_updates(session, store, [update], factor_key=TEST_FACTOR_KEY)
    assert result.results[0]["result"] == "applied", result.results
    set_label_wording(session, store, "Fraud Review", hidden=True)
    session.commit()
    return merchant, store


def _status_page(client, query=""):
    form = client.get("/s/acme/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    data = {"order_number": "1001", "verifier": "10001"}
    if token:
        data["csrf_token"] = token.group(1)
    found = client.post("/s/acme/lookup", data=data)
    assert found.status_code == 303
    return client.get(found.headers["Location"] + query).get_data(as_text=True)


def _badge(html: str) -> str:
    match = re.search(r'class="status-badge">([^<]*)<', html)
    assert match, "no status badge"
    return match.group(1)


def test_hidden_label_reads_as_the_labels_page_promises(hidden_order, signed_in, app):
    merchant, store = hidden_order
    labels = signed_in(merchant).get(f"/account/stores/{store.slug}/labels")
    promised = re.search(r"a hidden label shows as the last visible status of the order, "
                         r"or as “([^”]+)”", labels.get_data(as_text=True))
    assert promised and promised.group(1) == "Processing"
    shopper_html = _status_page(app.test_client())
    assert "Fraud Review" not in shopper_html
    assert _badge(shopper_html) == "Processing"


@pytest.mark.parametrize("lang, expected", [("de", "In Bearbeitung"), ("es", "En proceso"),
                                            ("fr", "En cours de traitement")])
def test_hidden_label_wording_is_translated(hidden_order, app, lang, expected):
    assert _badge(_status_page(app.test_client(), f"?lang={lang}")) == expected
