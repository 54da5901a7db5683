"""Hostile bodies and headers: each gets a clear 4xx in the JSON envelope, never a 5xx."""
from __future__ import annotations

import json

import pytest

from ..conftest import make_update

KEYED = "/api/v1/updates"


def _post(client, key, body: bytes, content_type="application/json", **headers):
    return client.post(KEYED, data=body, headers={"Authorization": f"Bearer {key}",
                                                  "Content-Type": content_type, **headers})


def _error(response) -> str:
    return response.get_json()["error"]["code"]


def _batch(**changes) -> bytes:
    update = make_update("bad-1", 1)
    update.update(changes)
    return json.dumps({"updates": [update]}).encode()


@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,                      # nesting past any recursion limit
    b'{"updates": [' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"]}",
    b'{"updates": [{"update_id": "\xff\xfe"}]}',          # invalid UTF-8
    "{\"updates\": []}".encode("utf-16"),                  # valid JSON, wrong encoding
    b'\xef\xbb\xbf{"updates": []}',                        # UTF-8 byte-order mark
    b'{"updates": [{"sequence": NaN}]}',                   # not JSON numbers
    b'{"updates": [{"sequence": Infinity}]}',
    b'{"updates": [{"sequence": 1e999999}]}',              # overflows a float
    b'{"updates": [{"sequence": 1' + b"0" * 5000 + b"}]}",  # past the int-parsing limit
    b'{"updates": [{"update_id": "\\ud800"}]}',            # lone surrogate
    b'{"updates": [1, 2',                                  # truncated
    b"\x00" * 64,
])
def test_malformed_bodies_are_400(client, api_key, body):
    response = _post(client, api_key, body)
    assert response.status_code == 400, response.get_data(as_text=True)[:200]
    assert _error(response) == "bad_request"


def test_oversized_body_is_413_before_parsing(client, api_key):
    body = b'{"updates": ["' + b"x" * (1024 * 1024 + 10) + b'"]}'
    response = _post(client, api_key, body)
    assert response.status_code == 413
    assert _error(response) == "payload_too_large"


def test_too_many_updates_is_413(client, api_key):
    body = json.dumps({"updates": [make_update(f"u{i}", i) for i in range(501)]}).encode()
    assert _post(client, api_key, body).status_code == 413


def test_not_json_is_415(client, api_key):
    assert _post(client, api_key, b"updates=1", "application/x-www-form-urlencoded") \
        .status_code == 415


@pytest.mark.parametrize("changes, field", [
    ({"sequence": 2**63}, "sequence"),                    # past the stored column
    ({"sequence": 10**30}, "sequence"),
    ({"sequence": -1}, "sequence"),
    ({"sequence": 1.5}, "sequence"),
    ({"occurred_at": "0001-01-01T00:00:00+05:00"}, "occurred_at"),  # no UTC equivalent
    ({"occurred_at": "9999-12-31T23:59:59-05:00"}, "occurred_at"),
    ({"update_id": "a\x00b"}, "update_id"),
])
def test_out_of_range_values_reject_the_update(api, changes, field):
    response = _post(api.client, api.key, _batch(**changes))
    assert response.status_code == 200
    result = response.get_json()["results"][0]
    assert result["result"] == "rejected" and field in result["errors"]


@pytest.mark.parametrize("where", ["status", "order_number", "cart_order_number"])
def test_nul_bytes_in_text_are_rejected_not_stored(api, where):
    update = make_update("nul-1", 1)
    update["order"][where] = "10\x0001"
    assert api.results(update) == ["rejected"]


@pytest.mark.parametrize("path", ["/api/v1/orders/ab%00cd", "/api/v1/orders/%ED%A0%80"])
def test_hostile_order_numbers_in_the_path_are_4xx(api, path):
    for method in ("GET", "DELETE"):
        response = api.client.open(path, method=method, headers=api.headers())
        assert 400 <= response.status_code < 500, (method, path, response.status_code)


@pytest.mark.parametrize("name", ["api_key", "key", "token", "access_token", "API_KEY"])
def test_key_in_the_query_string_is_refused(api, name):
    for response in (
        api.client.post(f"{KEYED}?{name}={api.key}", json={"updates": [make_update()]}),
        api.client.get(f"/api/v1/orders/1001?{name}={api.key}", headers=api.headers()),
    ):
        assert response.status_code in (400, 401)
    assert api.order("1001").status_code == 404  # nothing was stored by the refused post


@pytest.mark.parametrize("header", [
    "Bearer", "Bearer ", "bearer oss_", "Basic dXNlcjpwYXNz", "Bearer oss_x_y",
    "Bearer " + "a" * 8000, "Bearer oss_0123456789abcdef_" + "\u00e9" * 10,
])
def test_malformed_authorization_is_401(client, header):
    response = client.post(KEYED, json={"updates": [make_update()]},
                           headers={"Authorization": header})
    assert response.status_code == 401
    assert _error(response) == "invalid_api_key"


def test_many_headers_and_odd_request_ids_are_harmless(api):
    headers = {**api.headers(), **{f"X-Junk-{i}": "x" * 100 for i in range(50)},
               "X-Request-ID": "id with spaces; and=more " + "x" * 100}
    response = api.client.post(KEYED, json={"updates": [make_update()]}, headers=headers)
    assert response.status_code == 200
    # Not echoed: an id we did not make up must be short and plain.
    assert " " not in response.headers["X-Request-ID"]


def test_lookup_json_hostile_bodies_are_4xx(client, two_stores):
    slug = two_stores[0].store.slug
    for body in (b'{"store": "' + slug.encode() + b'", "order_number": "1\\u0000", '
                 b'"verifier": "x"}',
                 b'{"store": "a\\u0000", "order_number": "1", "verifier": "x"}',
                 b'{"store": "a", "order_number": "1", "verifier": "\\udfff"}',
                 b"[" * 50_000, b'{"store": 1e999}'):
        response = client.post("/api/v1/lookup", data=body,
                               headers={"Content-Type": "application/json"})
        assert 400 <= response.status_code < 500, (body[:40], response.status_code)


def test_a_rejected_update_with_nul_bytes_does_not_sink_its_batch(api):
    hostile = make_update("nul\x00id", 1)
    hostile["order"]["order_number"] = "77\x0077"
    hostile["order"]["ship_to"] = {"na\x00me": "x"}
    response = api.post(hostile, make_update("good-1", 1))
    assert response.status_code == 200
    assert [r["result"] for r in response.get_json()["results"]] == ["rejected", "applied"]
