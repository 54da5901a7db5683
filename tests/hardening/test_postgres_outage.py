"""PostgreSQL stopped under client traffic: 503 + Retry-After, /readyz 503, nothing lost.

A private cluster (initdb as the postgres OS user, on a free port) is stopped for 30 s
while a seom_client keeps sending through two gunicorn workers; the shared server on 5432
is never touched.
"""
from __future__ import annotations

import threading
import time

import pytest
import requests

from seom_client import Client, Config

from ..client.conftest import FAST
from ..conftest import make_update
from .servers import Gunicorn, PrivatePostgres, postgres_bin, provision, wait_until

OUTAGE_S = 30  # seconds PostgreSQL stays down while the client keeps sending
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(postgres_bin() is None,
                                 reason="PostgreSQL server binaries (/usr/lib/postgresql/*/bin) "
                                        "or runuser are not installed")]


@pytest.fixture
def postgres():
    cluster = PrivatePostgres().init()
    yield cluster
    cluster.destroy()


def test_outage_answers_503_and_the_client_loses_nothing(postgres, tmp_path):
    from oss_server.config import normalise_database_url

    key = provision(normalise_database_url(postgres.url))
    server = Gunicorn({"OSS_DATABASE_URL": postgres.url}, workers=2, log_dir=tmp_path).start()
    headers = {"Authorization": f"Bearer {key}"}
    config = Config.new(server.url, key, path=tmp_path / "seom-client.json")
    config.settings.update({**FAST, "batch_max_updates": 20})
    config.save()
    numbers = [f"P{i}" for i in range(120)]
    stop_traffic = threading.Event()
    try:
        with Client(config) as client:
            client.start()

            def traffic():
                for number in numbers:
                    if stop_traffic.is_set():
                        return
                    client.enqueue({"event": "Order Import",
                                    "order": make_update(order_number=number)["order"]})
                    time.sleep((OUTAGE_S + 10) / len(numbers))
            sender = threading.Thread(target=traffic)
            sender.start()
            time.sleep(1)
            postgres.stop()
            down_at = time.monotonic()
            ready = requests.get(f"{server.url}/readyz", timeout=10)
            assert ready.status_code == 503 and int(ready.headers["Retry-After"]) >= 1
            post = requests.post(f"{server.url}/api/v1/updates", headers=headers, timeout=10,
                                 json={"updates": [make_update("direct-1", 1)]})
            assert post.status_code == 503, post.text
            assert post.json()["error"]["code"] == "storage_unavailable"
            assert int(post.headers["Retry-After"]) >= 1
            assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
            time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
            assert client.status()["pending"] > 0  # traffic piled up on the client's stack
            postgres.start()
            sender.join(30)
            wait_until(lambda: requests.get(f"{server.url}/readyz", timeout=10)
                       .status_code == 200, 30, what="/readyz back to 200")
            assert client.flush(60), client.status()
            status = client.status()
            assert status["dead"] == 0 and status["paused"] is None, status
            client.stop()
        found = [requests.get(f"{server.url}/api/v1/orders/{n}", headers=headers,
                              timeout=10).status_code for n in numbers]
        assert found.count(200) == len(numbers)
    finally:
        stop_traffic.set()
        server.stop()
