"""A store's dashboard: its figures match what the API received and refused."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest

from oss_server.models import Activity
from oss_server.security import signatures
from oss_server.services import dashboard, keys, store_admin
from tests.conftest import Api, make_update


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    html = re.sub(r"</?(?:span|a|code|time|strong|em)\b[^>]*>", "", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_figures_match_posted_updates_and_refused_requests(client, session, make_merchant,
                                                          make_store, signed_in):
    merchant = make_merchant()
    store = make_store(merchant, slug="acme", name="Acme")
    _old, old_key = keys.create_api_key(session, store, "old")
    _new, new_key = keys.create_api_key(session, store, "new")
    session.commit()
    api = Api(client, new_key)
    bad = make_update("u-3", order_number="3003")
    bad["order"]["items"][0]["qty_ordered"] = -1
    assert api.results(make_update("u-1"), make_update("u-2", 2), bad) == [
        "applied", "applied", "rejected"]

    # The revoked key's requests: counted, with its key id.
    keys.revoke_key(session, store, _old.key_id)
    session.commit()
    for n in range(3):
        assert api.post(make_update(f"r-{n}"), key=old_key).status_code == 401
    # A wrong secret for a known key id is counted; a key id of no store is not.
    assert api.post(make_update("w-1"), key=f"oss_{_new.key_id}_wrongsecret").status_code == 401
    assert api.post(make_update("x-1"), key="oss_0000000000000000_nothing").status_code == 401

    # Requests without a valid signature once the store requires one.
    secret = store_admin.rotate_signing_secret(session, store)
    store.require_signature = True
    session.commit()
    assert api.post(make_update("s-1")).status_code == 401
    body = b'{"updates": []}'
    signed = {"OSS-Signature": signatures.sign(secret, body), **api.headers(),
              "Content-Type": "application/json"}
    assert client.post("/api/v1/updates", data=body, headers=signed).status_code == 400

    page = _text(signed_in(merchant).get("/account/stores/acme/dashboard"))
    assert "2 applied, 1 rejected, 5 refused" in page
    assert f"Revoked API key oss_{_old.key_id}_… 3" in page
    assert f"Known key id with a wrong secret oss_{_new.key_id}_… 1" in page
    assert "Missing or bad signature — 1" in page
    assert f"still sent with the revoked key {_old.key_id}" in page
    assert "Last update received less than a minute ago" in page
    assert "Requests refused" in page  # the state badge

    first = _text(signed_in(merchant).get("/account/"))
    assert "Acme Requests refused" in first
    assert "2 applied, 1 rejected, 5 refused" in first


def test_a_lapsed_subscription_is_counted_and_said(client, session, make_merchant, make_store,
                                                   signed_in):
    merchant = make_merchant(paid_through=date.today() - timedelta(days=60))
    store = make_store(merchant, slug="late", name="Late")
    _key, full = keys.create_api_key(session, store)
    session.commit()
    api = Api(client, full)
    assert api.post(make_update()).status_code == 402
    assert api.post(make_update()).status_code == 402
    page = _text(signed_in(merchant).get("/account/stores/late/dashboard"))
    assert "0 applied, 0 rejected, 2 refused" in page
    assert f"Subscription lapsed oss_{_key.key_id}_… 2" in page
    assert "The subscription has lapsed" in page
    assert "Subscription Lapsed" in page


def test_lookups_today_are_shown(client, session, make_merchant, make_store, signed_in, api_key):
    merchant = make_merchant()
    store = make_store(merchant, slug="looked", name="Looked", allow_zip=True)
    _key, full = keys.create_api_key(session, store)
    session.commit()
    assert Api(client, full).results(make_update()) == ["applied"]
    for number, status in (("1001", 200), ("9999", 404)):
        response = client.post("/api/v1/lookup", json={"store": "looked", "order_number": number,
                                                       "verifier": "10001"})
        assert response.status_code == status
    page = _text(signed_in(merchant).get("/account/stores/looked/dashboard"))
    assert "Lookups today 1 found, 1 not found, 0 limited" in page


def _received(session, store, when, outcome="applied"):
    session.add(Activity(store_id=store.id, outcome=outcome, received_at=when,
                         update_id=f"a-{when.timestamp()}"))


@pytest.mark.parametrize("steady_days, warned", [(5, True), (1, False)])
def test_silence_after_a_steady_flow_is_warned(session, make_store, steady_days, warned):
    store = make_store()
    now = datetime(2026, 12, 7, 12, tzinfo=timezone.utc)
    for day in range(steady_days):
        _received(session, store, now - timedelta(days=2 + day, hours=1))
    session.commit()
    health = dashboard.store_health(session, store, 14, now)
    assert health.counts["applied"] == 0
    assert any("Nothing has arrived for 2 days" in w for w in health.warnings) is warned
    # Once an update arrives again, the warning goes.
    _received(session, store, now - timedelta(hours=1))
    session.commit()
    assert not any("Nothing has arrived" in w
                   for w in dashboard.store_health(session, store, 14, now).warnings)


def test_purge_drops_old_refusal_tallies(runner, session, make_store):
    from oss_server.models import ApiRefusal
    from oss_server.services import refusals

    store = make_store()
    now = datetime.now(timezone.utc)
    refusals.count_refusal(session, store.id, "revoked_key", "abc", now - timedelta(days=31))
    refusals.count_refusal(session, store.id, "revoked_key", "abc", now - timedelta(days=2))
    refusals.count_refusal(session, store.id, "revoked_key", "abc", now - timedelta(days=2))
    session.commit()
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0 and "1 hourly tallies of refused requests" in result.output
    session.expire_all()
    assert [row.count for row in session.query(ApiRefusal)] == [2]


def test_a_burst_of_refused_requests_is_counted_exactly(live_url, session, make_store):
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from oss_server.services.refusals import refusals_since

    store = make_store()
    key, full = keys.create_api_key(session, store)
    keys.revoke_key(session, store, key.key_id)
    session.commit()

    def send(n):
        return requests.post(f"{live_url}/api/v1/updates", timeout=30,
                             json={"updates": [make_update(f"b-{n}")]},
                             headers={"Authorization": f"Bearer {full}"}).status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(send, range(40)))
    assert statuses == [401] * 40
    session.expire_all()
    since = datetime.now(timezone.utc) - timedelta(hours=1)
    assert refusals_since(session, store, since) == [
        {"cause": "revoked_key", "label": "Revoked API key", "key_id": key.key_id, "count": 40}]
