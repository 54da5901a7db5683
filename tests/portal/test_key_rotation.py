"""API keys: revoking asks first; rotating gives a new key and retires the old one later."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from oss_server.models import ApiKey, utcnow
from oss_server.services import keys
from tests.conftest import Api, make_update


def _key_id(full: str) -> str:
    return keys.parse_key(full)[0]


def test_revoking_asks_first_and_only_the_post_revokes(client, session, make_merchant,
                                                       make_store, signed_in):
    merchant = make_merchant()
    store = make_store(merchant, slug="acme")
    _key, full = keys.create_api_key(session, store, "till")
    session.commit()
    browser = signed_in(merchant)
    listing = browser.get("/account/stores/acme/keys").get_data(as_text=True)
    # The list links to a confirmation page; it has no one-click revoke button.
    assert f'href="/account/stores/acme/keys/{_key.key_id}/revoke"' in listing
    assert 'method="post" action="/account/stores/acme/keys/' not in listing
    confirm = browser.get(f"/account/stores/acme/keys/{_key.key_id}/revoke")
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "This cannot be undone" in page
    assert f"Revoke key {_key.key_id}" in page and "Keep the key" in page
    assert Api(client, full).results(make_update()) == ["applied"]  # still working

    done = browser.post(f"/account/stores/acme/keys/{_key.key_id}/revoke")
    assert done.status_code == 302, done.headers
    session.expire_all()
    assert Api(client, full).post(make_update("u-2")).status_code == 401
    assert browser.get("/account/stores/acme/keys/nope/revoke").status_code == 404


def test_rotation_shows_the_new_key_once_and_keeps_the_old_one_for_the_grace(
        client, session, make_merchant, make_store, signed_in):
    merchant = make_merchant()
    store = make_store(merchant, slug="acme")
    _old, old_full = keys.create_api_key(session, store, "back office")
    session.commit()
    browser = signed_in(merchant)
    form = browser.get(f"/account/stores/acme/keys/{_old.key_id}/rotate").get_data(as_text=True)
    assert '<option selected value="24">' in form or 'value="24" selected' in form

    before = utcnow()
    page = browser.post(f"/account/stores/acme/keys/{_old.key_id}/rotate",
                        {"grace_hours": "24"}).get_data(as_text=True)
    new_full = re.search(r'id="new-key" class="secret">([^<]+)<', page).group(1)
    assert new_full.startswith("oss_") and _old.key_id not in new_full
    assert f"replaces key oss_{_old.key_id}_…" in re.sub(r"</?code>", "", page)

    session.expire_all()
    old = session.scalar(select(ApiKey).where(ApiKey.key_id == _old.key_id))
    new = session.scalar(select(ApiKey).where(ApiKey.key_id == _key_id(new_full)))
    assert new.label == "back office" and new.revoked_at is None
    assert before + timedelta(hours=24) <= old.revoked_at <= utcnow() + timedelta(hours=24)
    # Both keys work during the grace period ...
    assert Api(client, old_full).results(make_update("u-1")) == ["applied"]
    assert Api(client, new_full).results(make_update("u-2", 2)) == ["applied"]
    # ... and the new key is never shown again.
    assert new_full not in browser.get("/account/stores/acme/keys").get_data(as_text=True)

    # Once the grace period has passed, the old key is refused (checked at request time).
    old.revoked_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert Api(client, old_full).post(make_update("u-3", 3)).status_code == 401
    assert Api(client, new_full).results(make_update("u-4", 4)) == ["applied"]


def test_rotation_with_no_grace_stops_the_old_key_at_once(client, session, make_merchant,
                                                          make_store, signed_in):
    merchant = make_merchant()
    store = make_store(merchant, slug="acme")
    _old, old_full = keys.create_api_key(session, store)
    session.commit()
    browser = signed_in(merchant)
    response = browser.post(f"/account/stores/acme/keys/{_old.key_id}/rotate",
                            {"grace_hours": "0"})
    assert response.status_code == 200
    session.expire_all()  # the API requests below share the test's session
    assert Api(client, old_full).post(make_update()).status_code == 401
    # A revoked key cannot be rotated again; an unlisted grace is refused.
    assert browser.post(f"/account/stores/acme/keys/{_old.key_id}/rotate",
                        {"grace_hours": "0"}).status_code == 404
    _other, _ = keys.create_api_key(session, store)
    session.commit()
    assert browser.post(f"/account/stores/acme/keys/{_other.key_id}/rotate",
                        {"grace_hours": "9999"}).status_code == 400


def test_an_expiring_key_says_when_it_stops(session, make_merchant, make_store, signed_in):
    merchant = make_merchant()
    store = make_store(merchant, slug="acme")
    _old, _ = keys.create_api_key(session, store)
    keys.rotate_key(session, store, _old.key_id, timedelta(hours=72))
    session.commit()
    page = signed_in(merchant).get("/account/stores/acme/keys").get_data(as_text=True)
    assert "Stops working" in page and "Revoke now…" in page


def test_another_merchant_cannot_rotate_or_see_the_confirmation(session, make_merchant,
                                                                make_store, signed_in):
    store = make_store(make_merchant(), slug="acme")
    _key, _ = keys.create_api_key(session, store)
    session.commit()
    other = signed_in(make_merchant())
    assert other.get(f"/account/stores/acme/keys/{_key.key_id}/revoke").status_code == 404
    assert other.post(f"/account/stores/acme/keys/{_key.key_id}/rotate",
                      {"grace_hours": "24"}).status_code == 404
