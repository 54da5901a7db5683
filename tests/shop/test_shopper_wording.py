"""Labels in the shopper's language, the progress tracker and the store's time zone."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from oss_server.models import Order, Store
from oss_server.services.labels import LabelError, label_text, set_label_wording
from oss_server.services.progress import tracker
from oss_server.services.standard_labels import (
    STAGES,
    STANDARD_LABELS,
    standard_stage,
    standard_wording,
)
from oss_server.services.status_email import compose_status_email
from tests.conftest import make_update

from .test_json_lookup import post as json_lookup

DEFAULTS = Path(__file__).resolve().parents[2] / "seom_client" / "defaults.json"


def _badge(html: str) -> str:
    return re.search(r'class="status-badge">([^<]*)<', html).group(1)


def _current_step(html: str) -> str:
    step = re.search(r'aria-current="step">(.*?)</li>', html, re.S).group(1)
    return re.search(r'class="step-name">([^<]*)<', step).group(1)


@pytest.fixture
def status_url(shopper, order):
    """The status page link of order 1001 (status "Approved", items "Item Pending")."""
    found = shopper.lookup("acme", "1001", "10001")
    assert found.status_code == 303
    return found.headers["Location"]


def test_every_standard_label_is_worded_in_every_language_and_has_a_stage():
    labels = json.loads(DEFAULTS.read_text())["labels"]
    assert set(labels) == set(STANDARD_LABELS)
    for label in labels:
        assert standard_stage(label) in STAGES
        for lang in ("es", "fr", "de"):
            wording = standard_wording(label, lang)
            assert wording and wording != label, (label, lang)
            assert len(wording) <= 64


def test_wording_falls_back_from_merchant_to_standard_to_as_received(session, store):
    set_label_wording(session, store, "Shipped", text="On its way", texts={"es": "En camino"})
    set_label_wording(session, store, "Awaiting Stock", text="Waiting for stock",
                      texts={"fr": "Stock attendu"})
    set_label_wording(session, store, "Fraud Review", hidden=True)
    session.commit()
    assert [label_text(store, "shipped", lang) for lang in ("en", "es", "fr", "de")] == [
        "On its way", "En camino", "Expédiée", "Versandt"]
    assert [label_text(store, "Awaiting Stock", lang) for lang in ("en", "fr", "de")] == [
        "Waiting for stock", "Stock attendu", "Waiting for stock"]
    assert label_text(store, "Item Pending", "de") == "Item Pending"  # as received
    assert all(label_text(store, "Fraud Review", lang) is None for lang in ("en", "es", "de"))


def test_label_wording_and_stage_are_checked(session, store):
    with pytest.raises(LabelError):
        set_label_wording(session, store, "Shipped", texts={"it": "Spedito"})
    with pytest.raises(LabelError):
        set_label_wording(session, store, "Shipped", texts={"de": "x" * 65})
    with pytest.raises(LabelError):
        set_label_wording(session, store, "Shipped", stage="lost")
    # The standard stage needs no entry: choosing it again resets the label.
    set_label_wording(session, store, "Shipped", stage="on_hold")
    assert store.label_map == {"Shipped": {"text": None, "hidden": False, "stage": "on_hold"}}
    set_label_wording(session, store, "Shipped", stage="shipped")
    assert store.label_map == {}


def test_status_page_reads_in_the_shoppers_language_and_follows_new_wording(
        client, session, store, status_url):
    english = client.get(status_url + "?lang=en").get_data(as_text=True)
    spanish = client.get(status_url + "?lang=es").get_data(as_text=True)
    assert _badge(english) == "Approved" and _badge(spanish) == "Aprobado"
    assert "Approved" not in spanish.split("<main", 1)[1]
    # The merchant's Spanish wording wins at once (the page cache keys on the store row) ...
    set_label_wording(session, store, "Approved", texts={"es": "Confirmado"})
    session.commit()
    assert _badge(client.get(status_url + "?lang=es").get_data(as_text=True)) == "Confirmado"
    # ... and only in Spanish.
    assert _badge(client.get(status_url + "?lang=en").get_data(as_text=True)) == "Approved"
    assert _badge(client.get(status_url + "?lang=fr").get_data(as_text=True)) == "Commande validée"


def test_tracker_shows_the_stage_the_merchant_chose(client, session, store, status_url):
    html = client.get(status_url + "?lang=en").get_data(as_text=True)
    assert '<ol class="tracker" aria-label="Order progress">' in html
    assert _current_step(html) == "Processing"  # "Approved" is a processing label
    assert "(completed)" in html and "(current step)" in html and "(still to come)" in html
    set_label_wording(session, store, "Approved", stage="on_hold")
    session.commit()
    html = client.get(status_url + "?lang=de").get_data(as_text=True)
    assert _current_step(html) == "Angehalten"
    assert html.count('aria-current="step"') == 1 and "(aktueller Schritt)" in html


@pytest.mark.parametrize("stage, names, current", [
    ("received", ["received", "processing", "shipped"], 0),
    ("shipped", ["received", "processing", "shipped"], 2),
    ("backordered", ["received", "backordered", "shipped"], 1),
    ("on_hold", ["received", "on_hold", "shipped"], 1),
    ("canceled", ["received", "canceled"], 1),
])
def test_tracker_steps(stage, names, current):
    steps = tracker(stage, "en")
    assert [step["stage"] for step in steps] == names
    assert [step["state"] for step in steps].index("current") == current
    assert all(step["state"] == "done" for step in steps[:current])


def test_json_lookup_uses_the_shoppers_language(client, order):
    data = client.post("/api/v1/lookup", json={"store": "acme", "order_number": "1001",
                                               "verifier": "10001"},
                       headers={"Accept-Language": "fr-CA,fr;q=0.9"}).get_json()
    assert data["order"]["status"] == "Commande validée"
    assert data["order"]["stage"] == "processing"
    assert data["order"]["history"][-1]["status"] == "Commande validée"
    assert json_lookup(client).get_json()["order"]["status"] == "Approved"  # English by default


def test_store_time_zone_from_the_cli_shows_on_the_status_page(runner, client, session, store,
                                                               status_url):
    shown = runner.invoke(args=["store-settings", "acme", "--set", "timezone=america/new_york"])
    assert shown.exit_code == 0, shown.output
    assert "timezone = America/New_York" in shown.output
    bad = runner.invoke(args=["store-settings", "acme", "--set", "timezone=Mars/Olympus"])
    assert bad.exit_code != 0 and "Unknown time zone" in bad.output
    session.expire_all()
    assert session.get(Store, store.id).timezone == "America/New_York"
    # The order's update fired at 10:01 UTC on 20 November: 5:01 AM in New York (EST).
    html = client.get(status_url + "?lang=en").get_data(as_text=True)
    assert "Nov 20, 2026, 5:01\u202fAM EST" in html and " UTC" not in html
    assert "20.11.2026, 05:01 EST" in client.get(status_url + "?lang=de").get_data(as_text=True)


def test_shopper_email_uses_the_wording_and_the_stores_time(session, store):
    store.timezone = "America/New_York"
    set_label_wording(session, store, "Item Shipped", texts={"de": "Artikel ist unterwegs"})
    session.commit()
    order = Order(id=7, order_number="1001")
    update = make_update(status="Shipped", occurred_at="2026-07-14T16:30:00+00:00")
    email = compose_status_email(store, order, update, locale="es",
                                 status_url="https://status.example.test/s/acme/o/t")
    assert "Enviado" in email.subject and "Shipped" not in email.subject
    assert "Enviado" in email.text and "Enviado" in email.html
    assert "14 jul 2026, 12:30 EDT" in email.text and "14 jul 2026, 12:30 EDT" in email.html
    set_label_wording(session, store, "Shipped", texts={"de": "Unterwegs zu Ihnen"})
    email = compose_status_email(store, order, update, locale="de",
                                 status_url="https://status.example.test/s/acme/o/t")
    assert "Unterwegs zu Ihnen" in email.subject and "14.07.2026, 12:30 EDT" in email.text
