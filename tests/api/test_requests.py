"""Whole-request errors: the envelope, keys, subscription, sizes, storage."""
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from oss_server import create_app
from oss_server.errors import SubscriptionExpired
from oss_server.models import Activity, ApiKey
from oss_server.security import signatures
from oss_server.services import keys

from ..conftest import make_update

SUBSCRIPTION_MESSAGE = SubscriptionExpired.message


def _error(response):
    body = response.get_json()
    assert set(body) == {"error"}
    return body["error"]["code"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"},
                                     {"Authorization": "Bearer oss_abc_def"},
                                     {"Authorization": "Basic dXNlcjpwYXNz"}])
def test_missing_or_wrong_key_is_401(client, headers):
    response = client.post("/api/v1/updates", json={"updates": [make_update()]}, headers=headers)
    assert response.status_code == 401
    assert _error(response) == "invalid_api_key"


def test_right_id_wrong_secret_is_401(api):
    key_id = api.key.split("_")[1]
    response = api.post(make_update(), key=f"oss_{key_id}_wrongsecret")
    assert response.status_code == 401


def test_revoked_key_is_401_at_once(api, session):
    assert api.post(make_update()).status_code == 200
    key = session.scalar(select(ApiKey))
    keys.revoke_key(session, key.store, key.key_id)
    session.commit()
    response = api.post(make_update("u-2"))
    assert response.status_code == 401


def test_key_in_query_string_is_refused(api):
    response = api.client.post(f"/api/v1/updates?api_key={api.key}",
                               json={"updates": [make_update()]}, headers=api.headers())
    assert response.status_code == 400


def test_two_active_keys_work_side_by_side(client, make_store, make_api_key):
    store = make_store()
    first, second = make_api_key(store), make_api_key(store)
    for key in (first, second):
        response = client.post("/api/v1/updates", json={"updates": [make_update()]},
                               headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200


def test_only_a_hash_of_the_secret_is_stored(api, session):
    row = session.scalar(select(ApiKey))
    secret = api.key.split("_", 2)[2]
    assert secret not in (row.secret_hash, row.key_id)
    assert len(row.secret_hash) == 64


def test_last_used_is_recorded(api, session):
    assert session.scalar(select(ApiKey.last_used_at)) is None
    api.post(make_update())
    session.expire_all()
    assert session.scalar(select(ApiKey.last_used_at)) is not None


def test_lapsed_subscription_is_402_after_grace(client, make_merchant, make_store, make_api_key,
                                                session):
    lapsed = make_merchant(paid_through=date.today() - timedelta(days=15))
    key = make_api_key(make_store(lapsed))
    response = client.post("/api/v1/updates", json={"updates": [make_update()]},
                           headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 402
    assert _error(response) == "subscription_expired"
    # The merchant's Activity says why the updates did not show, once per refused request.
    activity = session.execute(select(Activity.outcome, Activity.errors)).all()
    assert activity == [("refused", {"subscription_expired": SUBSCRIPTION_MESSAGE})]


def test_grace_period_still_accepts(client, make_merchant, make_store, make_api_key):
    in_grace = make_merchant(paid_through=date.today() - timedelta(days=14))
    key = make_api_key(make_store(in_grace))
    response = client.post("/api/v1/updates", json={"updates": [make_update()]},
                           headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"updates": {}}', b'{"updates": []}',
                                  b'{"updates": [], "extra": 1}', b'"x"',
                                  b'\xff\xfe{"updates": []}'])
def test_malformed_envelope_is_400(api, body):
    response = api.client.post("/api/v1/updates", data=body, headers={
        **api.headers(), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert _error(response) == "bad_request"


def test_deeply_nested_json_is_a_clear_400(api):
    body = "[" * 100_000 + "]" * 100_000
    response = api.client.post("/api/v1/updates", data=body, headers={
        **api.headers(), "Content-Type": "application/json"})
    assert response.status_code in (400, 413)
    assert "Traceback" not in response.get_data(as_text=True)


def test_wrong_content_type_is_415(api):
    response = api.client.post("/api/v1/updates", data=json.dumps({"updates": [make_update()]}),
                               headers={**api.headers(), "Content-Type": "text/plain"})
    assert response.status_code == 415
    assert _error(response) == "unsupported_media_type"


def test_oversize_body_is_413(api):
    padding = "x" * (1024 * 1024)
    response = api.client.post("/api/v1/updates", data=json.dumps({"updates": [padding]}),
                               headers={**api.headers(), "Content-Type": "application/json"})
    assert response.status_code == 413


def test_oversize_batch_is_413(api):
    updates = [make_update(f"u-{i}") for i in range(501)]
    response = api.post(*updates)
    assert response.status_code == 413
    assert _error(response) == "payload_too_large"


def test_full_batch_of_500_is_accepted(api):
    updates = [make_update(f"u-{i}", order_number=f"N-{i}") for i in range(500)]
    response = api.post(*updates)
    assert response.status_code == 200
    assert {r["result"] for r in response.get_json()["results"]} == {"applied"}


def test_database_unavailable_is_503_with_retry_after(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI":
                      f"sqlite:///{tmp_path}/missing-dir/nope.db"})
    response = app.test_client().post("/api/v1/updates", json={"updates": [make_update()]},
                                      headers={"Authorization": "Bearer oss_abc_def"})
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert _error(response) == "storage_unavailable"
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.fixture
def signing_store(session, make_store):
    store = make_store(require_signature=True)
    store.signing_secrets = ["whsec_new", "whsec_old"]
    session.commit()
    return store


def test_required_signature_is_verified_over_raw_body(client, signing_store, make_api_key):
    key = make_api_key(signing_store)
    body = json.dumps({"updates": [make_update()]}).encode()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    unsigned = client.post("/api/v1/updates", data=body, headers=headers)
    assert unsigned.status_code == 401 and _error(unsigned) == "invalid_signature"
    forged = client.post("/api/v1/updates", data=body, headers={
        **headers, "OSS-Signature": signatures.sign("wrong", body)})
    assert forged.status_code == 401
    old = client.post("/api/v1/updates", data=body, headers={
        **headers, "OSS-Signature": signatures.sign("whsec_old", body)})
    assert old.status_code == 200


def test_unsigned_body_is_refused_before_it_is_parsed(client, signing_store, make_api_key):
    key = make_api_key(signing_store)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    for body in (b"{not json", b'{"updates": "nope"}'):
        response = client.post("/api/v1/updates", data=body, headers=headers)
        assert response.status_code == 401 and _error(response) == "invalid_signature"
    signed_garbage = client.post("/api/v1/updates", data=b"{not json", headers={
        **headers, "OSS-Signature": signatures.sign("whsec_new", b"{not json")})
    assert signed_garbage.status_code == 400


def test_refused_requests_show_in_the_activity_log(client, signing_store, make_api_key,
                                                    session):
    key = make_api_key(signing_store)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    client.post("/api/v1/updates", data=b'{"updates": []}', headers=headers)
    client.post("/api/v1/updates", data=b"x", headers={**headers, "OSS-Signature": "t=1,v1=0"})
    client.post("/api/v1/updates", data=b"{}", headers={
        "Authorization": f"Bearer oss_{'0' * 16}_nope", "Content-Type": "application/json"})
    session.expire_all()
    rows = session.scalars(select(Activity).order_by(Activity.id)).all()
    # Two refusals of this store's key; a request with no valid key belongs to no store.
    assert [(row.store_id, row.outcome, list(row.errors)) for row in rows] == [
        (signing_store.id, "refused", ["invalid_signature"])] * 2


def test_signature_known_vector_and_tolerance():
    body = b'{"updates":[]}'
    # HMAC-SHA256("secret", "1700000000.{\"updates\":[]}"), computed independently.
    import hashlib
    import hmac
    expected = hmac.new(b"secret", b'1700000000.{"updates":[]}', hashlib.sha256).hexdigest()
    header = signatures.sign("secret", body, 1700000000)
    assert header == f"t=1700000000,v1={expected}"
    assert signatures.verify(header, body, ["secret"], now=1700000000 + 300)
    assert not signatures.verify(header, body, ["secret"], now=1700000000 + 301)
    assert not signatures.verify(header, body + b" ", ["secret"], now=1700000000)
    rotated = f"t=1700000000,v1={'0' * 64},v1={expected}"
    assert signatures.verify(rotated, body, ["secret"], now=1700000000)


def test_server_error_never_leaks_a_traceback(app, api, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")
    monkeypatch.setattr("oss_server.api.updates.apply_updates", boom)
    response = api.post(make_update())
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "secret internals" not in text and "Traceback" not in text
    assert _error(response) == "internal_error"
