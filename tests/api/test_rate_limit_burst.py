"""The API's request limit under a burst: forty requests at the same instant.

Through werkzeug's threaded server, so the requests really overlap, with the limiter's
storage in memory (one process) and in Redis (what several workers share). A burst of junk
secrets from one address gets exactly the address's quota of 401s; the key's own quota is
untouched and, sent as a burst too, admits exactly its limit.
"""
from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from oss_server.services import keys

from ..conftest import make_update
from ..redis_server import redis_url_or_skip

LIMIT = 5
BURST = 40


@pytest.fixture(params=["memory", "redis"])
def app_config(request):
    config = {"OSS_API_RATE_LIMIT": f"{LIMIT} per minute"}
    if request.param == "redis":
        # A prefix of this test's own: the shared Redis database is left as it was.
        config.update(RATELIMIT_STORAGE_URI=redis_url_or_skip(),
                      RATELIMIT_KEY_PREFIX=f"oss-test-{uuid.uuid4().hex}")
    return config


def _burst(url: str, key: str, count: int = BURST) -> Counter:
    """POST *count* one-update batches at once; count the answers' status codes."""
    start = threading.Barrier(count)

    def post(n: int) -> int:
        start.wait()
        return requests.post(url + "/api/v1/updates", timeout=30,
                             json={"updates": [make_update(f"burst-{n}")]},
                             headers={"Authorization": f"Bearer {key}"}).status_code

    with ThreadPoolExecutor(count) as pool:
        return Counter(pool.map(post, range(count)))


@pytest.fixture
def limiter_keys(app):
    """The limiter's keys in Redis (none for the in-memory storage), deleted afterwards."""
    uri = app.config["RATELIMIT_STORAGE_URI"]
    if not uri.startswith("redis://"):
        yield lambda: None
        return
    server = redis.Redis.from_url(uri)
    pattern = f"*LIMITER/{app.config['RATELIMIT_KEY_PREFIX']}/*"
    yield lambda: server.keys(pattern)
    for key in server.scan_iter(pattern):
        server.delete(key)


def test_a_burst_gets_exactly_the_limit_and_junk_secrets_spend_only_the_address(
        live_url, api_key, limiter_keys):
    key_id, _secret = keys.parse_key(api_key)
    junk = f"oss_{key_id}_{'x' * 43}"
    assert _burst(live_url, junk) == {401: LIMIT, 429: BURST - LIMIT}
    # The same address, now with the real key: counted against the key, which the junk
    # burst left whole; exactly LIMIT updates get in.
    assert _burst(live_url, api_key) == {200: LIMIT, 429: BURST - LIMIT}
    # With Redis configured the counts were Redis's (not the per-process fallback's).
    assert limiter_keys() != []
