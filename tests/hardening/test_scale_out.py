"""Two gunicorn app servers on one PostgreSQL database and one Redis behave as one service.

Uses the shared PostgreSQL (a database of its own, dropped afterwards) and the shared Redis
(a key prefix of its own, deleted afterwards); skipped when either is not reachable.
"""
from __future__ import annotations

import os
import re
import secrets
import signal
import threading

import psycopg
import pytest
import redis
import requests

from seom_client import Client, Config

from ..client.conftest import FAST
from ..conftest import make_update
from .servers import PASSWORD, Gunicorn, provision, wait_until

pytestmark = pytest.mark.slow
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
# As in tests/shop/test_limits.py: OSS_TEST_REDIS_URL picks another server or database
# number; the keys carry a prefix of this run's own either way.
REDIS = os.environ.get("OSS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable() -> str | None:
    try:
        psycopg.connect(ADMIN, connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"PostgreSQL on 127.0.0.1:5432 is not reachable ({exc.__class__.__name__})"
    try:
        redis.Redis.from_url(REDIS, socket_timeout=3).ping()
    except redis.RedisError as exc:
        return f"Redis at {REDIS} is not reachable ({exc.__class__.__name__})"
    return None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Servers A and B on database oss_scale_<random>; yield (A, B, API key, slug)."""
    reason = _reachable()
    if reason:
        pytest.skip(reason)
    name = f"oss_scale_{secrets.token_hex(4)}"
    prefix = f"oss-scale-{name}:"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    tmp = tmp_path_factory.mktemp("scale")
    servers = []
    try:
        key = provision(url.replace("postgresql://", "postgresql+psycopg://"), slug="scale")
        env = {"OSS_DATABASE_URL": url, "OSS_RATELIMIT_STORAGE_URI": REDIS,
               "OSS_LOOKUP_KEY_PREFIX": prefix}
        servers = [Gunicorn(env, workers=2, log_dir=tmp).start() for _ in range(2)]
        yield servers[0], servers[1], key, "scale"
    finally:
        for server in servers:
            server.stop()
        client = redis.Redis.from_url(REDIS)
        for redis_key in client.scan_iter(match=prefix + "*"):
            client.delete(redis_key)
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _auth(key):
    return {"Authorization": f"Bearer {key}"}


def test_a_lookup_limit_reached_on_one_server_holds_on_the_other(cluster):
    a, b, key, slug = cluster
    assert requests.post(f"{a.url}/api/v1/updates", headers=_auth(key), timeout=10, json={
        "updates": [make_update("lim-1", 1, order_number="LIM-1")]}).status_code == 200
    body = {"store": slug, "order_number": "LIM-1", "verifier": "00000"}
    statuses = [requests.post(f"{server.url}/api/v1/lookup", json=body, timeout=10).status_code
                for server in (a, b, a, b, a)]
    assert statuses == [404] * 5
    for server in (b, a):
        right = requests.post(f"{server.url}/api/v1/lookup", timeout=10,
                              json={**body, "verifier": "10001"})
        assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0


def test_a_portal_session_from_one_server_works_on_the_other(cluster):
    a, b, _key, slug = cluster
    browser = requests.Session()  # cookies belong to 127.0.0.1, whatever the port
    form = browser.get(f"{a.url}/account/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    signed_in = browser.post(f"{a.url}/account/login", timeout=10, allow_redirects=False, data={
        "csrf_token": token, "email": f"{slug}@example.com", "password": PASSWORD})
    assert signed_in.status_code in (302, 303), signed_in.text[:300]
    page = browser.get(f"{b.url}/account/", timeout=10, allow_redirects=False)
    assert page.status_code == 200
    assert "/account/login" not in page.headers.get("Location", "")


def test_batches_spread_over_both_servers_are_stored_once(cluster):
    a, b, key, _slug = cluster
    batches = [[make_update(f"sp-{i}-{j}", j, order_number=f"SP-{i}", status=f"Step {j}")
                for i in range(k * 10, k * 10 + 10) for j in (1, 2)] for k in range(6)]
    for index, batch in enumerate(batches):
        first, second = (a, b) if index % 2 else (b, a)
        results = [r["result"] for r in requests.post(
            f"{first.url}/api/v1/updates", headers=_auth(key), json={"updates": batch},
            timeout=30).json()["results"]]
        assert results == ["applied"] * len(batch)
        # The same batch again through the other server, as a client's retry would be.
        again = [r["result"] for r in requests.post(
            f"{second.url}/api/v1/updates", headers=_auth(key), json={"updates": batch},
            timeout=30).json()["results"]]
        assert again == ["duplicate"] * len(batch)
    for i in (0, 17, 59):
        order = requests.get(f"{b.url}/api/v1/orders/SP-{i}", headers=_auth(key), timeout=10)
        assert order.json()["status"] == "Step 2"
        assert len([h for h in order.json()["history"] if h["line_id"] is None]) == 2


def test_killing_one_server_mid_load_loses_nothing(cluster, tmp_path):
    a, b, key, _slug = cluster
    clients, numbers = [], {}
    for name, server in (("a", a), ("b", b)):
        config = Config.new(server.url, key, path=tmp_path / f"{name}.json")
        config.settings.update({**FAST, "batch_max_updates": 25})
        config.save()
        clients.append(Client(config))
        numbers[name] = [f"KL-{name}-{i}" for i in range(150)]
    try:
        for client in clients:
            client.start()

        def load(client, orders):
            for number in orders:
                client.enqueue({"order": make_update(order_number=number)["order"]})
        loaders = [threading.Thread(target=load, args=(c, numbers[n]))
                   for c, n in zip(clients, ("a", "b"))]
        for loader in loaders:
            loader.start()
        wait_until(lambda: _count(a, key, numbers["b"][:50:10]) >= 1, 30, what="load through B")
        for worker in b.workers():  # the whole server, mid-load
            os.kill(worker, signal.SIGKILL)
        b.stop(signal.SIGKILL)
        for loader in loaders:
            loader.join(60)
        assert clients[0].flush(60)
        b.start()  # back on the same port: its client's stack drains into it
        assert clients[1].flush(60), clients[1].status()
        for client in clients:
            assert client.status()["dead"] == 0
            client.stop()
    finally:
        for client in clients:
            client.close()
    for name in ("a", "b"):
        assert _count(a, key, numbers[name]) == len(numbers[name])


def _count(server, key, orders) -> int:
    session = requests.Session()
    return sum(session.get(f"{server.url}/api/v1/orders/{n}", headers=_auth(key),
                           timeout=10).status_code == 200 for n in orders)
