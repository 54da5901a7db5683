"""Emails readable only while the store sends shopper emails; wording per language."""
from __future__ import annotations

from sqlalchemy import select

from oss_server.models import Order
from oss_server.models.outbox import OutboxEmail
from oss_server.services import accounts
from oss_server.services.email_phrases import phrases
from oss_server.services.lookup import lookup_order
from oss_server.services.status_email import compose_status_email
from tests.conftest import TEST_FACTOR_KEY, make_update


def notify(update):
    update["notify_customer"] = True
    return update


def test_turning_shopper_emails_off_forgets_addresses(session, shop_api, emailing_store, send):
    assert shop_api.results(notify(make_update("u-1", 1))) == ["applied"]
    assert send().sent == 1
    assert shop_api.results(notify(make_update("u-2", 2, status="Packed"))) == ["applied"]
    order = session.scalar(select(Order))
    assert order.email == "pat@example.com"
    assert len(session.scalars(select(OutboxEmail)).all()) == 2

    accounts.set_store_setting(emailing_store, "shopper_emails", False)
    session.commit()
    session.expire_all()

    order = session.scalar(select(Order))
    assert order.email is None
    assert session.scalars(select(OutboxEmail)).all() == []   # sent and queued alike
    assert not send()
    # The keyed hash still lets the shopper look the order up by email.
    found = lookup_order(session, emailing_store, "1001", "  PAT@example.COM ", TEST_FACTOR_KEY)
    assert found is not None and found.id == order.id
    assert lookup_order(session, emailing_store, "1001", "other@example.com",
                        TEST_FACTOR_KEY) is None
    # And while the setting stays off, new updates keep no readable address.
    assert shop_api.results(notify(make_update("u-3", 3, status="Shipped"))) == ["applied"]
    session.expire_all()
    assert session.scalar(select(Order)).email is None
    assert session.scalars(select(OutboxEmail)).all() == []


def test_other_stores_emails_are_kept(session, shop_api, make_store, emailing_store):
    other = make_store(shopper_emails=True)
    assert shop_api.results(notify(make_update())) == ["applied"]
    accounts.set_store_setting(other, "shopper_emails", False)
    session.commit()
    assert len(session.scalars(select(OutboxEmail)).all()) == 1


def test_email_speaks_the_shoppers_language(emailing_store):
    order = Order(id=7, order_number="1001")
    update = make_update(status="Shipped")
    for locale, lang, words in (("es", "es", "Estado"), ("fr-CA", "fr", "Statut"),
                                ("de", "de", "Noch zu versenden"), ("xx", "en", "Still to ship")):
        email = compose_status_email(emailing_store, order, update, locale=locale,
                                     status_url="https://status.example.test/s/x/o/t")
        assert words in email.text and words in email.html
        assert f'lang="{lang}"' in email.html  # the language it is written in


def test_phrases_fall_back_to_english():
    assert phrases(None) is phrases("en") is phrases("pt-BR")
    assert phrases("es_MX")["status"] == "Estado"


def test_the_language_of_the_lookup_is_the_language_of_later_emails(
        session, client, shop_api, emailing_store):
    from tests.shop.conftest import Shopper
    assert shop_api.results(make_update("u-1", 1)) == ["applied"]
    shopper = Shopper(client)
    found = shopper.lookup(emailing_store.slug, "1001", "10001",
                           headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert found.status_code == 303
    session.expire_all()
    assert session.scalar(select(Order.shopper_locale)) == "es"
    shipped = notify(make_update("u-2", 2, "2026-11-21T10:00:00+00:00", status="Shipped"))
    assert shop_api.results(shipped) == ["applied"]
    email = session.scalars(select(OutboxEmail)).one()
    assert "Estado" in email.text and 'lang="es"' in email.html
