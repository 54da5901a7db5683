"""The shopper lookup's limits under a burst: forty guesses at the same instant.

Through werkzeug's threaded server, so the guesses really overlap, with the counters in the
database (the default) and in Redis (several servers). However the guesses race, exactly
the limit's number of them are checked; the rest are refused, and so is the right answer
that comes after them.
"""
from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from ..redis_server import redis_url_or_skip

BURST = 40
PER_ORDER, PER_ADDRESS = 5, 10


@pytest.fixture(params=["database", "redis"])
def app_config(request):
    config = {"OSS_LOOKUP_LIMIT_PER_ORDER": f"{PER_ORDER} per 15 minutes",
              "OSS_LOOKUP_LIMIT_PER_IP": f"{PER_ADDRESS} per 15 minutes"}
    if request.param == "redis":
        prefix = f"oss-test:{uuid.uuid4().hex}:"
        url = redis_url_or_skip()
        config.update(OSS_RATELIMIT_STORAGE_URI=url, OSS_LOOKUP_KEY_PREFIX=prefix)
        yield config
        server = redis.Redis.from_url(url)
        for key in server.scan_iter(prefix + "*"):
            server.delete(key)
        return
    yield config


def _burst(url: str, bodies: list[dict]) -> Counter:
    """POST the JSON lookups all at once; count the answers' status codes."""
    start = threading.Barrier(len(bodies))

    def post(body: dict) -> int:
        start.wait()
        return requests.post(url + "/api/v1/lookup", json=body, timeout=30).status_code

    with ThreadPoolExecutor(len(bodies)) as pool:
        return Counter(pool.map(post, bodies))


def _guess(number: str, verifier: str) -> dict:
    return {"store": "acme", "order_number": number, "verifier": verifier}


def test_a_burst_of_wrong_guesses_on_one_order_checks_exactly_its_limit(live_url, order):
    guesses = [_guess("1001", f"{90000 + n}") for n in range(BURST)]
    assert _burst(live_url, guesses) == {404: PER_ORDER, 429: BURST - PER_ORDER}
    right = requests.post(live_url + "/api/v1/lookup", json=_guess("1001", "10001"), timeout=30)
    assert right.status_code == 429


def test_a_burst_over_many_orders_from_one_address_checks_exactly_its_limit(live_url, order):
    guesses = [_guess(f"{5000 + n}", "10001") for n in range(BURST)]
    assert _burst(live_url, guesses) == {404: PER_ADDRESS, 429: BURST - PER_ADDRESS}
