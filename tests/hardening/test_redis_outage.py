"""Redis holds the lookup counters: while it is down no lookup is answered, so guessing stops.

Documented behaviour (docs/deploy.md): with OSS_RATELIMIT_STORAGE_URI on Redis, a Redis
outage turns shopper lookups into 503 + Retry-After before any factor is checked (fail
closed); the update API keeps working on per-process fallback limits; when Redis is back
the limits apply again. A private redis-server on a free port stands in for the real one.
"""
from __future__ import annotations

import shutil

import pytest

from ..conftest import make_update
from ..shop.conftest import Shopper
from .servers import PrivateRedis

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("redis-server") is None,
                                 reason="redis-server is not installed")]


@pytest.fixture
def redis_server():
    server = PrivateRedis().start()
    yield server
    server.stop()


@pytest.fixture
def app_config(redis_server):
    return {"OSS_RATELIMIT_STORAGE_URI": redis_server.url,
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            "OSS_LOOKUP_KEY_PREFIX": "oss-test-outage:"}


def _lookup(client, slug, verifier):
    return client.post("/api/v1/lookup", json={"store": slug, "order_number": "1001",
                                               "verifier": verifier})


def test_lookups_fail_closed_while_redis_is_down(client, api, redis_server):
    store_slug = _store_slug(api)
    assert api.results(make_update()) == ["applied"]
    assert _lookup(client, store_slug, "10001").status_code == 200
    assert _lookup(client, store_slug, "99999").status_code == 404

    redis_server.stop()
    for verifier in ["00000", "11111", "22222"] * 10 + ["10001"]:
        response = _lookup(client, store_slug, verifier)
        # Even the right verifier gets no answer: nothing is checked without the counters.
        assert response.status_code == 503, response.get_data(as_text=True)
        assert int(response.headers["Retry-After"]) >= 1
    # The shopper's form, with its CSRF token, fails closed the same way.
    form = Shopper(client).lookup(store_slug, "1001", "10001")
    assert form.status_code == 503 and int(form.headers["Retry-After"]) >= 1
    # Ingestion does not depend on Redis being there.
    assert api.results(make_update("u-2", 2, status="Packed")) == ["applied"]

    redis_server.start()
    statuses = [_lookup(client, store_slug, f"0000{i}").status_code for i in range(7)]
    assert statuses[:5] == [404] * 5 and statuses[5:] == [429, 429]


def _store_slug(api) -> str:
    from oss_server.extensions import db
    from oss_server.models import ApiKey

    key_id = api.key.split("_")[1]
    return db.session.query(ApiKey).filter_by(key_id=key_id).one().store.slug
