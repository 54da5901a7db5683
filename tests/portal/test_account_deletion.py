"""Closing an account erases every row of the merchant, in every table."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from oss_server.extensions import db
from oss_server.models import Base, Order
from oss_server.services import lookup_stats
from tests.conftest import PASSWORD, Api, make_update


def _populate(session, client, merchant, store, full_key, portal):
    Api(client, full_key).results(make_update("u-1"), make_update("u-2", sequence=2,
                                                                  status="Shipped"))
    Api(client, full_key).post({"update_id": "bad"})
    lookup_stats.record_lookup(session, store, date.today(), "found")
    store.signing_secrets = ["whsec_gone"]
    store.label_map = {"Shipped": {"text": "On its way", "hidden": False}}
    session.commit()
    portal.login(merchant.email, "a wrong password")           # a throttle row
    portal.post("/account/reset", {"email": merchant.email})   # a queued reset email


def _rows_mentioning(session, merchant_id, store_ids, order_ids, needles) -> list[str]:
    found = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)).mappings():
            values = dict(row)
            if (values.get("merchant_id") == merchant_id
                    or (table.name == "merchants" and values["id"] == merchant_id)
                    or values.get("store_id") in store_ids
                    or (table.name == "stores" and values["id"] in store_ids)
                    or values.get("order_id") in order_ids
                    or any(n in repr(values) for n in needles)):
                found.append(f"{table.name}: {values}")
    return found


def test_closing_the_account_leaves_no_row_of_the_merchant(
        make_merchant, make_store, make_api_key, client, session, signed_in, new_portal):
    merchant = make_merchant(email="leaving@example.com")
    store = make_store(merchant=merchant, slug="leaving-store")
    full_key = make_api_key(store=store)
    make_store(merchant=make_merchant(email="staying@example.com"), slug="staying-store")
    _populate(session, client, merchant, store, full_key, new_portal())
    ids = (merchant.id, {store.id}, set(session.scalars(select(Order.id).where(
        Order.store_id == store.id))))
    needles = ["leaving@example.com", "leaving-store", full_key.split("_")[1], "whsec_gone"]
    assert len(_rows_mentioning(session, *ids, needles)) > 8  # the check sees them
    browser = signed_in(merchant)
    refused = browser.post("/account/settings/delete", {"password": "not my password"})
    assert refused.status_code == 302
    session.expire_all()
    assert _rows_mentioning(session, *ids, needles)
    assert browser.post("/account/settings/delete", {"password": PASSWORD}).status_code == 302
    session.expire_all()
    assert _rows_mentioning(session, *ids, needles) == []
    assert "staying@example.com" in repr(session.execute(select(Base.metadata.tables[
        "merchants"])).all())
    assert browser.get("/account/").status_code == 302
    assert Api(client, full_key).post(make_update("u-9", sequence=9)).status_code == 401
    db.session.remove()
