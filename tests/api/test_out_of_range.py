"""Malformed headers and numbers out of any column's range: a clean 4xx, never a 500."""
from __future__ import annotations

import json
import time

import pytest
import requests

from oss_server.models.outbox import FAILED, SHOPPER_STATUS, OutboxEmail
from oss_server.security import signatures

from ..conftest import make_update
from ..portal.conftest import Portal, cheap_hashes  # noqa: F401 - fast argon2 for the login

SECRET = "whsec_range"
BODY = json.dumps({"updates": [make_update()]}).encode()
GOOD_MAC = signatures.sign(SECRET, BODY).split("v1=")[1]  # right secret and body, bad time
HUGE = [2**63, 2**64 + 1, 10**40]


@pytest.fixture
def signed_key(make_store, make_api_key):
    store = make_store(require_signature=True)
    store.signing_secrets = [SECRET]
    return make_api_key(store)


@pytest.mark.parametrize("header", [
    f"t=\u00b2,v1={GOOD_MAC}",                 # a superscript two: isdigit(), not int()
    f"t=\u00b9\u00b2\u00b3,v1={GOOD_MAC}",
    "t=1" + "0" * 5000 + f",v1={GOOD_MAC}",    # past int()'s digit limit
    f"t={int(time.time())},v1=" + "\u00e9" * 64,  # non-ASCII: compare_digest would raise
    f"t={int(time.time())},v1=\u00b2",
    "t=,v1=", "t", ",,,", "v1=" + GOOD_MAC, "t=-5,v1=" + GOOD_MAC,
])
def test_malformed_signature_is_401(client, signed_key, header):
    response = client.post("/api/v1/updates", data=BODY, headers={
        "Authorization": f"Bearer {signed_key}", "Content-Type": "application/json",
        "OSS-Signature": header})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_signature"


def test_superscript_timestamp_over_real_http(live_url, signed_key):
    response = requests.post(f"{live_url}/api/v1/updates", data=BODY, timeout=10, headers={
        "Authorization": f"Bearer {signed_key}", "Content-Type": "application/json",
        "OSS-Signature": f"t=\u00b2,v1={GOOD_MAC}".encode("latin-1")})
    assert response.status_code == 401
    good = requests.post(f"{live_url}/api/v1/updates", data=BODY, timeout=10, headers={
        "Authorization": f"Bearer {signed_key}", "Content-Type": "application/json",
        "OSS-Signature": signatures.sign(SECRET, BODY)})
    assert good.status_code == 200


@pytest.fixture
def merchant_browser(app, make_merchant, make_store):
    merchant = make_merchant()
    store = make_store(merchant, slug="range")
    browser = Portal(app.test_client())
    assert browser.login(merchant.email).status_code == 302
    return browser, store


@pytest.mark.parametrize("page", ["99999999999999999999999", str(2**63), "-3", "x", "\u00b2",
                                  "1" * 5000, "1.5", ""])
def test_portal_page_number_never_fails(merchant_browser, page):
    browser, _store = merchant_browser
    response = browser.get("/account/stores/range/orders", query_string={"page": page})
    assert response.status_code == 200


@pytest.mark.parametrize("number", HUGE)
def test_huge_ids_in_portal_urls_are_404(merchant_browser, number):
    browser, _store = merchant_browser
    assert browser.get(f"/account/stores/range/orders/{number}").status_code == 404
    assert browser.post(f"/account/stores/range/orders/{number}/delete").status_code == 404
    response = browser.post(f"/account/stores/range/emails/{number}/retry")
    assert response.status_code in (302, 404)


def test_huge_ids_leave_real_rows_alone(merchant_browser, session, api):
    browser, store = merchant_browser
    session.add(OutboxEmail(kind=SHOPPER_STATUS, recipient="a@b.test", subject="s", text="t",
                            store_id=store.id, state=FAILED, attempts=3))
    session.commit()
    response = browser.post(f"/account/stores/range/emails/{2**64 + 1}/retry")
    assert response.status_code in (302, 404)
    session.expire_all()
    assert session.query(OutboxEmail).one().state == FAILED


@pytest.mark.parametrize("number", HUGE)
def test_huge_order_numbers_in_api_urls_are_404(api, number):
    assert api.order(str(number)).status_code == 404
    response = api.client.delete(f"/api/v1/orders/{number}", headers=api.headers())
    assert response.status_code == 404


@pytest.mark.parametrize("number", HUGE)
def test_huge_order_ids_in_status_tokens_say_the_link_does_not_work(app, client, make_store,
                                                                    number):
    from oss_server.services.tokens import make_status_token

    store = make_store(slug="tok")
    token = make_status_token(app.secret_key, store.id, number)
    response = client.get(f"/s/tok/o/{token}")
    assert response.status_code == 303 and response.headers["Location"].endswith("/s/tok/")


@pytest.mark.parametrize("index", ["\u00b2", "1" * 5000])
def test_odd_list_index_in_a_rejected_update_still_shows_in_activity(merchant_browser,
                                                                     make_api_key, client,
                                                                     index):
    browser, store = merchant_browser
    update = make_update()
    update["order"]["items"] = {index: {"card_number": "x"}}  # not a list: its keys are paths
    response = client.post("/api/v1/updates", json={"updates": [update]},
                           headers={"Authorization": f"Bearer {make_api_key(store)}"})
    assert response.get_json()["results"][0]["result"] == "rejected"
    assert browser.get("/account/stores/range/activity").status_code == 200
