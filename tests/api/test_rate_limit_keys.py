"""The API's request limit counts per key only once the key authenticated; else per address."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from oss_server.services import keys

from ..conftest import make_update

LIMIT = 3
ATTACKER, CLIENT, OTHER = "192.0.2.66", "198.51.100.10", "203.0.113.5"


@pytest.fixture
def app_config():
    return {"OSS_API_RATE_LIMIT": f"{LIMIT} per minute"}


def _post(client, key: str, address: str, update_id: str = "u-1"):
    return client.post("/api/v1/updates", json={"updates": [make_update(update_id)]},
                       headers={"Authorization": f"Bearer {key}"},
                       environ_base={"REMOTE_ADDR": address})


def _junk(real_key: str) -> str:
    """The real key's id with a secret of the attacker's invention."""
    key_id, _secret = keys.parse_key(real_key)
    return f"oss_{key_id}_{'x' * 43}"


def test_junk_secrets_for_a_real_key_id_leave_its_quota_alone(client, api_key):
    answers = [_post(client, _junk(api_key), ATTACKER).status_code for _ in range(LIMIT * 3)]
    assert answers == [401] * LIMIT + [429] * (LIMIT * 2)
    # The store's own client, with the whole quota of its key.
    for n in range(LIMIT):
        assert _post(client, api_key, CLIENT, f"real-{n}").status_code == 200
    refused = _post(client, api_key, CLIENT, "real-over")
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"


def test_failed_requests_count_per_address(client, api_key, make_api_key):
    other_store_key = make_api_key()
    for bad in ("oss_nope_nope", _junk(other_store_key), "not a key at all"):
        assert _post(client, bad, ATTACKER).status_code == 401
    # Whatever keys it names, the address has spent its quota of failures...
    assert _post(client, _junk(api_key), ATTACKER).status_code == 429
    assert client.post("/api/v1/updates", json={"updates": [make_update()]},
                       environ_base={"REMOTE_ADDR": ATTACKER}).status_code == 429
    # ...and only that address: another one still gets its answer.
    assert _post(client, _junk(api_key), OTHER).status_code == 401
    # A real key sent from the limited address counts against the key, not the address.
    assert _post(client, api_key, ATTACKER, "from-the-same-address").status_code == 200


def test_an_authenticated_key_is_limited_whatever_its_address(client, api_key):
    for n, address in enumerate((CLIENT, OTHER, ATTACKER)):
        assert _post(client, api_key, address, f"k-{n}").status_code == 200
    assert _post(client, api_key, "192.0.2.200", "k-over").status_code == 429


def test_a_database_failure_while_checking_the_key_answers_503(client, api_key, monkeypatch):
    def unreachable(*_args, **_kwargs):
        raise OperationalError("SELECT", {}, ConnectionError("server closed the connection"))

    monkeypatch.setattr(keys, "check_key", unreachable)
    response = _post(client, api_key, CLIENT)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
