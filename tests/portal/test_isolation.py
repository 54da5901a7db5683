"""No merchant can read or touch another's data: every portal route, both methods.

The matrix is built from the app's URL map, so a route added later is tried too; a route
with an argument this file does not know fails until it is added here.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from oss_server import create_app
from oss_server.models import ApiKey, Order, Store
from oss_server.models.outbox import FAILED, SHOPPER_STATUS, OutboxEmail
from tests.conftest import PASSWORD, _config, make_update

# Routes that name no tenant object: they act on the signed-in account itself (or none).
ACCOUNT_LEVEL = {
    "portal.dashboard", "portal.new_store", "portal.settings", "portal.change_password",
    "portal.two_factor", "portal.disable_two_factor", "portal.new_recovery_codes",
    "portal.delete_account", "portal.subscription", "portal.signup", "portal.login",
    "portal.login_second_factor", "portal.logout", "portal.reset_request",
    "portal.reset_password",
}
# Plausible form data, so a refusal cannot come from validation instead of ownership.
FORM = {"name": "Renamed", "slug": "x", "retention_days": "90", "label": "Approved",
        "text": "Taken over", "hidden": "y", "password": PASSWORD, "current": PASSWORD,
        "confirm": PASSWORD, "email": "x@example.com", "code": "000000"}


def _portal_rules():
    app = create_app(_config("sqlite://"))
    rules = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("portal."):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            rules.append(pytest.param(rule.rule, method, sorted(rule.arguments),
                                      rule.endpoint, id=f"{method} {rule.rule}"))
    return rules


RULES = _portal_rules()
TENANT_RULES = [p for p in RULES if p.values[3] not in ACCOUNT_LEVEL]


def test_every_portal_route_is_classified():
    for path, _method, arguments, endpoint in (p.values for p in RULES):
        if endpoint in ACCOUNT_LEVEL:
            assert arguments in ([], ["token"]), f"{endpoint} names an object: test it below"
        else:
            assert "slug" in arguments, f"{endpoint} ({path}) is not scoped by a store"


@pytest.fixture
def victim(make_merchant, make_store, make_api_key, client, session):
    """Merchant A with a store, a key, an order, activity, a label and a signing secret."""
    merchant = make_merchant()
    store = make_store(merchant=merchant, slug="victim-store", name="Victim")
    full_key = make_api_key(store=store)
    response = client.post("/api/v1/updates", json={"updates": [make_update()]},
                           headers={"Authorization": f"Bearer {full_key}"})
    assert response.status_code == 200
    store.signing_secrets = ["whsec_victim"]
    store.label_map = {"Approved": {"text": "Confirmed", "hidden": False}}
    session.commit()
    key = session.scalar(select(ApiKey).where(ApiKey.store_id == store.id))
    order = session.scalar(select(Order).where(Order.store_id == store.id))
    email = OutboxEmail(kind=SHOPPER_STATUS, recipient="pat@example.com", subject="Approved",
                        text="t", store_id=store.id, order_id=order.id, state=FAILED,
                        attempts=1, last_error="550 no such mailbox")
    session.add(email)
    session.commit()
    return {"store": store, "slug": store.slug, "key_id": key.key_id, "order_id": order.id,
            "email_id": email.id}


def _snapshot(session, victim) -> dict:
    session.expire_all()
    store = session.get(Store, victim["store"].id)
    key = session.scalar(select(ApiKey).where(ApiKey.key_id == victim["key_id"]))
    return {"store": store and (store.name, store.retention_days, store.signing_secrets,
                                store.label_map, store.require_signature),
            "key_revoked": key and key.revoked_at,
            "order": session.get(Order, victim["order_id"]) is not None,
            "email": session.get(OutboxEmail, victim["email_id"]).state}


def _fill(path: str, arguments: list[str], values: dict) -> str:
    for name in arguments:
        assert name in values, f"no test value for route argument <{name}>: add one"
        path = path.replace(f"<{name}>", str(values[name]))
        path = path.replace(f"<int:{name}>", str(values[name]))
    return path


@pytest.mark.parametrize("path,method,arguments,endpoint", TENANT_RULES)
def test_another_merchants_objects_are_not_found(path, method, arguments, endpoint, victim,
                                                 signed_in, make_merchant, make_store, session):
    intruder = make_merchant()
    own_store = make_store(merchant=intruder, slug="intruder-store")
    browser = signed_in(intruder)
    before = _snapshot(session, victim)
    # The victim's store outright, then the intruder's own store with the victim's objects.
    targets = [_fill(path, arguments, victim)]
    if len(arguments) > 1:
        targets.append(_fill(path, arguments, {**victim, "slug": own_store.slug}))
    for url in targets:
        if method == "GET":
            response = browser.get(url)
        else:
            response = browser.post(url, FORM)
        assert response.status_code == 404, (url, response.status_code)
        assert "Victim" not in response.get_data(as_text=True)
    assert _snapshot(session, victim) == before


@pytest.mark.parametrize("path,method,arguments,endpoint",
                         [p for p in RULES if p.values[1] == "POST"])
def test_every_form_refuses_a_missing_csrf_token(path, method, arguments, endpoint, victim,
                                                 signed_in, make_merchant, session):
    browser = signed_in(victim["store"].merchant)
    before = _snapshot(session, victim)
    url = _fill(path, arguments, {**victim, "token": "not-a-token"})
    response = browser.post(url, FORM, csrf=False)
    assert response.status_code == 400
    assert _snapshot(session, victim) == before


@pytest.mark.parametrize("path,method,arguments,endpoint",
                         [p for p in TENANT_RULES if p.values[1] == "GET"])
def test_the_owner_reaches_the_same_pages(path, method, arguments, endpoint, victim, signed_in):
    browser = signed_in(victim["store"].merchant)
    assert browser.get(_fill(path, arguments, victim)).status_code == 200
