"""``GET /api/v1/store``: a key names its store and subscription, or says why it cannot."""
from datetime import date, timedelta

import requests

from oss_server.api.openapi import build_spec


def _get(client, key=None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.get("/api/v1/store", headers=headers)


def test_active_subscription(client, make_merchant, make_store, make_api_key):
    paid = date.today() + timedelta(days=100)
    store = make_store(make_merchant(paid_through=paid), slug="acme", name="Acme Outfitters")
    response = _get(client, make_api_key(store))
    assert response.status_code == 200
    assert response.get_json() == {"slug": "acme", "name": "Acme Outfitters", "subscription": {
        "state": "active", "paid_through": paid.isoformat()}}


def test_grace_period_still_answers(client, make_merchant, make_store, make_api_key):
    paid = date.today() - timedelta(days=3)
    store = make_store(make_merchant(paid_through=paid), slug="late")
    body = _get(client, make_api_key(store)).get_json()
    assert body["subscription"] == {"state": "grace", "paid_through": paid.isoformat()}


def test_lapsed_subscription_is_described_not_refused(client, make_merchant, make_store,
                                                      make_api_key, app, api):
    days = app.config["OSS_GRACE_DAYS"] + 1
    paid = date.today() - timedelta(days=days)
    store = make_store(make_merchant(paid_through=paid))
    key = make_api_key(store)
    response = _get(client, key)
    assert response.status_code == 200
    assert response.get_json()["subscription"] == {"state": "lapsed",
                                                   "paid_through": paid.isoformat()}
    # Updates themselves are still refused with 402.
    assert api.post(key=key).status_code == 402


def test_missing_or_wrong_key_is_401(client, api_key):
    for key in (None, "oss_0123456789abcdef_wrong", api_key[:-2] + "xx", "not-a-key"):
        response = _get(client, key)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "invalid_api_key"


def test_each_key_sees_its_own_store(client, make_store, make_api_key):
    first, second = make_store(slug="first"), make_store(slug="second")
    assert _get(client, make_api_key(first)).get_json()["slug"] == "first"
    assert _get(client, make_api_key(second)).get_json()["slug"] == "second"


def test_over_real_http(live_url, api_key):
    response = requests.get(f"{live_url}/api/v1/store", timeout=10,
                            headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code == 200
    assert response.json()["subscription"]["state"] == "active"
    assert requests.get(f"{live_url}/api/v1/store", timeout=10).status_code == 401


def test_openapi_documents_the_route():
    spec = build_spec()
    operation = spec["paths"]["/api/v1/store"]["get"]
    assert {"200", "401"} <= set(operation["responses"])
    state = spec["components"]["schemas"]["SubscriptionOut"]["properties"]["state"]
    assert state["enum"] == ["active", "grace", "lapsed"]
