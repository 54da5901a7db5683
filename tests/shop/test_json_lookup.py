"""``POST /api/v1/lookup``: the same lookup as JSON, with CORS for the store's origins."""
from __future__ import annotations

import pytest

from oss_server.services.accounts import set_store_setting

from ..json_walk import keys_of, leaf_values

SHOP = "https://shop.acme.example"


@pytest.fixture
def embedded(store, session):
    store.allowed_origins = [SHOP]
    session.commit()
    return store


def post(client, origin=None, **body):
    body = {"store": "acme", "order_number": "1001", "verifier": "10001", **body}
    headers = {"Origin": origin} if origin else {}
    return client.post("/api/v1/lookup", json=body, headers=headers)


def test_json_lookup_returns_the_shopper_view(client, order):
    response = post(client)
    assert response.status_code == 200
    data = response.get_json()
    assert set(data) == {"store", "order", "status_url"}
    assert data["order"]["order_number"] == "1001"
    assert data["order"]["status"] == "Approved"
    assert "/s/acme/o/" in data["status_url"]
    assert response.headers["Cache-Control"] == "no-store"
    # No factor field in the order (the store's own support_phone is no factor) ...
    keys = [key.casefold() for key in keys_of(data) if key != "support_phone"]
    for field in ("zip", "email_hash", "phone"):
        assert not any(field in key for key in keys), field
    # ... nor a factor's value; the signed status_url and timestamps are skipped, as their
    # random-looking characters could spell one by chance.
    values = [str(v).casefold() for v in leaf_values({k: v for k, v in data.items()
                                                    if k != "status_url"})]
    for factor in ("10001", "pat@example.com", "555-0199", "5550199", "2125550199"):
        assert not any(factor in v for v in values), factor
    assert client.get(data["status_url"]).status_code == 200


def test_json_failures_are_one_answer(client, order):
    unknown = post(client, order_number="9999")
    wrong = post(client, verifier="99999")
    assert unknown.status_code == wrong.status_code == 404
    assert unknown.get_data() == wrong.get_data()
    assert unknown.get_json()["error"]["code"] == "no_match"


def test_json_lookup_shares_the_limits(client, shopper, order):
    for attempt in range(3):
        post(client, verifier=f"9000{attempt}")
    for attempt in range(2):
        shopper.lookup("acme", "1001", f"9100{attempt}")  # the form counts into the same bucket
    response = post(client)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["error"]["message"].startswith("Too many attempts")


@pytest.mark.parametrize("body, status", [
    ({"store": "acme", "order_number": "1001"}, 400),
    ({"store": "acme", "order_number": "1001", "verifier": "10001", "zip": "1"}, 400),
    ({"store": "acme", "order_number": 1001, "verifier": "10001"}, 400),
    ({"store": "nope", "order_number": "1001", "verifier": "10001"}, 404),
])
def test_json_lookup_rejects_bad_bodies(client, order, body, status):
    response = client.post("/api/v1/lookup", json=body)
    assert response.status_code == status
    assert "error" in response.get_json()


@pytest.mark.parametrize("body", ['["acme", "1001", "10001"]', '"acme"', "null"])
def test_json_lookup_names_a_body_that_is_no_object(client, order, body):
    response = client.post("/api/v1/lookup", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].endswith("(check: body).")


def test_json_lookup_wants_json(client, order):
    response = client.post("/api/v1/lookup", data="store=acme", content_type="text/plain")
    assert response.status_code == 415


def test_lapsed_store_is_unavailable(client, make_merchant, make_store, add_order):
    from datetime import date, timedelta

    merchant = make_merchant(paid_through=date.today() - timedelta(days=400))
    add_order(make_store(merchant=merchant, slug="lapsed"))
    response = post(client, store="lapsed")
    assert response.status_code == 402


def test_cors_only_for_the_stores_allowed_origins(client, embedded, order, make_store):
    allowed = post(client, origin=SHOP)
    assert allowed.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Origin" in allowed.headers["Vary"]
    assert "Access-Control-Allow-Origin" not in post(client, origin="https://evil.example").headers
    # An origin allowed by another store gets nothing from this one.
    make_store(slug="other", allowed_origins=["https://other.example"])
    assert "Access-Control-Allow-Origin" not in post(
        client, origin="https://other.example").headers
    # Errors are readable by the allowed origin too, with the Retry-After header exposed.
    failed = post(client, origin=SHOP, verifier="99999")
    assert failed.headers["Access-Control-Allow-Origin"] == SHOP
    assert "Retry-After" in failed.headers["Access-Control-Expose-Headers"]


def test_cors_preflight(client, embedded):
    def preflight(origin):
        return client.options("/api/v1/lookup", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})

    ok = preflight(SHOP)
    assert ok.status_code == 204
    assert ok.headers["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in ok.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in ok.headers["Access-Control-Allow-Headers"]
    denied = preflight("https://evil.example")
    assert denied.status_code == 204 and "Access-Control-Allow-Origin" not in denied.headers
    assert "Access-Control-Allow-Origin" not in preflight("https://shop.acme").headers


def test_status_page_may_be_framed_by_the_stores_origins(client, embedded, shopper, order):
    found = shopper.lookup("acme", "1001", "10001")
    page = client.get(found.headers["Location"])
    assert f"frame-ancestors {SHOP}" in page.headers["Content-Security-Policy"]


def test_json_lookup_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/lookup"]["post"]
    assert {"200", "404", "429"} <= set(operation["responses"])
    assert "LookupRequest" in spec["components"]["schemas"]
    assert "verifier" in spec["components"]["schemas"]["LookupRequest"]["properties"]
    shopper_order = spec["components"]["schemas"]["ShopperOrder"]["properties"] if \
        "ShopperOrder" in spec["components"]["schemas"] else {}
    assert not {"zip", "email", "phone"} & set(shopper_order)


def test_origins_typed_loosely_still_match_what_browsers_send(client, store, session, order):
    set_store_setting(store, "allowed_origins", "HTTPS://Shop.ACME.example:443/\n"
                                                "http://Till.example:8080 https://shop.acme.example")
    session.commit()
    assert store.allowed_origins == [SHOP, "http://till.example:8080"]
    assert post(client, origin=SHOP).headers["Access-Control-Allow-Origin"] == SHOP
