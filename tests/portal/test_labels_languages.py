"""The labels page words a label per language and places it on the tracker.

The store form sets the time zone.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from oss_server.models import Store
from oss_server.services.updates import apply_updates
from tests.conftest import TEST_FACTOR_KEY, make_update

from .test_stores import SETTINGS


@pytest.fixture
def received(session, make_merchant, make_store, signed_in):
    merchant = make_merchant()
    store = make_store(merchant=merchant, slug="acme", name="Acme")
    apply_updates(session, store, [make_update(status="Shipped")], factor_key=TEST_FACTOR_KEY)
    session.commit()
    return store, signed_in(merchant)


def test_labels_page_words_a_label_per_language_and_sets_its_stage(received, session):
    store, browser = received
    page = browser.get("/account/stores/acme/labels").get_data(as_text=True)
    # The standard wording is shown beside the fields a merchant fills in.
    assert 'Standard: <span lang="es">Enviado</span>' in page
    assert 'name="text_de"' in page and 'name="stage"' in page
    response = browser.post("/account/stores/acme/labels", {
        "label": "Shipped", "text": "On its way", "text_es": "En camino", "text_fr": "",
        "text_de": "Unterwegs", "stage": "shipped"})
    assert response.status_code == 302
    session.expire_all()
    assert store.label_map == {"Shipped": {"text": "On its way", "hidden": False,
                                           "texts": {"de": "Unterwegs", "es": "En camino"}}}
    browser.post("/account/stores/acme/labels", {"label": "Item Pending", "stage": "backordered"})
    session.expire_all()
    assert store.label_map["Item Pending"]["stage"] == "backordered"
    page = browser.get("/account/stores/acme/labels").get_data(as_text=True)
    assert 'value="En camino"' in page and 'value="Unterwegs"' in page
    assert '<option value="backordered" selected>' in page
    refused = browser.post("/account/stores/acme/labels", {"label": "Shipped", "stage": "lost"},
                           follow_redirects=True)
    assert "could not be saved" in refused.get_data(as_text=True)
    session.expire_all()
    assert store.label_map["Shipped"]["texts"]["es"] == "En camino"


def test_store_time_zone_in_the_portal(signed_in, make_merchant, session):
    browser = signed_in(make_merchant())
    assert browser.post("/account/stores/new", {**SETTINGS, "timezone": "Europe/Paris"}
                        ).status_code == 302
    store = session.scalar(select(Store).where(Store.slug == "acme"))
    assert store.timezone == "Europe/Paris"
    assert 'value="Europe/Paris"' in browser.get("/account/stores/acme").get_data(as_text=True)
    refused = browser.post("/account/stores/acme", {**SETTINGS, "timezone": "Paris"})
    assert "Unknown time zone" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(Store, store.id).timezone == "Europe/Paris"
