"""Gunicorn with several workers: metrics summed across them, JSON logs, a worker killed."""
from __future__ import annotations

import json
import os
import re
import signal
import sqlite3

import pytest
import requests

from seom_client import Client, Config

from ..client.conftest import FAST
from ..conftest import make_update
from .servers import REPO, Gunicorn, provision, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Two workers on one SQLite file, metrics in multiprocess mode, access log on."""
    tmp = tmp_path_factory.mktemp("gunicorn")
    url = f"sqlite:///{tmp}/oss.db"
    key = provision(url)
    (tmp / "metrics").mkdir()
    server = Gunicorn({"OSS_DATABASE_URL": url, "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics")},
                      workers=2, extra_args=["--access-logfile", "-"], log_dir=tmp).start()
    yield server, key
    server.stop()


def _metric(text: str, name: str, **labels) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_add_up_across_workers(server):
    gunicorn, key = server
    assert len(gunicorn.workers()) == 2
    before = _metric(requests.get(f"{gunicorn.url}/metrics").text, "oss_http_requests_total",
                     endpoint="ops.healthz")
    session = requests.Session()
    for _ in range(40):
        # A new connection each time so both workers take a share.
        assert requests.get(f"{gunicorn.url}/healthz", timeout=5).status_code == 200
    body = {"updates": [make_update(f"m-{i}", 1, order_number=f"M{i}") for i in range(3)]}
    assert session.post(f"{gunicorn.url}/api/v1/updates", json=body, timeout=10,
                        headers={"Authorization": f"Bearer {key}"}).status_code == 200
    text = requests.get(f"{gunicorn.url}/metrics", timeout=5).text
    assert _metric(text, "oss_http_requests_total", endpoint="ops.healthz") - before == 40
    assert _metric(text, "oss_updates_total", outcome="applied") >= 3
    assert _metric(text, "oss_outbox_pending_emails") == 0
    assert "oss_http_request_duration_seconds_bucket" in text


def test_json_log_lines_carry_the_request_id(server):
    gunicorn, _key = server
    response = requests.get(f"{gunicorn.url}/healthz", headers={"X-Request-ID": "trace-42-abc"})
    assert response.headers["X-Request-ID"] == "trace-42-abc"

    def logged():
        for line in gunicorn.log().splitlines():
            if line.startswith("{") and '"trace-42-abc"' in line:
                entry = json.loads(line)
                if entry["logger"] == "oss_server.access":
                    return entry
    entry = wait_until(logged, 5, what="the access line")
    assert entry["status"] == 200 and entry["endpoint"] == "ops.healthz"
    assert entry["message"] == "GET /healthz 200"


def test_without_access_logfile_each_request_is_logged_once(tmp_path):
    # The app writes the access line; gunicorn adds its own only when asked to.
    url = f"sqlite:///{tmp_path}/oss.db"
    provision(url)
    server = Gunicorn({"OSS_DATABASE_URL": url}, workers=1, log_dir=tmp_path).start()
    try:
        requests.get(f"{server.url}/healthz", headers={"X-Request-ID": "once-only-123"},
                     timeout=5)
        wait_until(lambda: '"once-only-123"' in server.log(), 5, what="the access line")
        requests.get(f"{server.url}/healthz", timeout=5)  # a later line: the first is complete
        lines = [json.loads(line) for line in server.log().splitlines()
                 if line.startswith("{") and "once-only-123" in line]
        assert [entry["logger"] for entry in lines] == ["oss_server.access"]
        assert any(json.loads(line)["logger"] == "gunicorn.error"
                   for line in server.log().splitlines() if line.startswith("{"))
    finally:
        server.stop()


def test_gunicorn_logs_hold_no_secrets(server):
    gunicorn, key = server
    base = gunicorn.url
    requests.post(f"{base}/api/v1/updates?api_key={key}", json={"updates": []}, timeout=5)
    requests.get(f"{base}/api/v1/orders/1?token={key}&zip=10001&email=pat@example.com",
                 headers={"Authorization": f"Bearer {key}", "Cookie": "session=s3cr3tcookie"},
                 timeout=5)
    requests.post(f"{base}/api/v1/updates", timeout=5, headers={"Authorization": f"Bearer {key}"},
                  json={"updates": [make_update("card-1", 1, status="4111 1111 1111 1111")]})
    requests.get(f"{base}/api/v1/orders/4111111111111111", timeout=5,
                 headers={"Authorization": f"Bearer {key}"})
    wait_until(lambda: "/api/v1/orders/" in gunicorn.log(), 5, what="access lines")
    log = gunicorn.log()
    assert "GET /api/v1/orders/" in log  # the gunicorn access log is on
    for secret in (key, key.split("_", 2)[2], "s3cr3tcookie", "pat@example.com",
                   "4111 1111 1111 1111", "4111111111111111"):
        assert secret not in log


def test_worker_killed_mid_batch_loses_nothing_and_the_retry_completes(tmp_path):
    url = f"sqlite:///{tmp_path}/oss.db"
    key = provision(url)
    marker = tmp_path / "inside-batch"
    server = Gunicorn({"OSS_DATABASE_URL": url, "OSS_TEST_KILL_MARKER": str(marker)}, workers=1,
                      extra_args=["-c", str(REPO / "tests/hardening/slow_writes.gunicorn.py")],
                      log_dir=tmp_path)
    server.start()
    try:
        config = Config.new(server.url, key, path=tmp_path / "seom-client.json")
        # The retry waits 3 s (no jitter), long enough to look at the database first.
        config.settings.update({**FAST, "backoff_base_s": 3.0, "backoff_cap_s": 3.0})
        config.save()
        orders = [f"K{i}" for i in range(60)]
        with Client(config, rand=lambda: 1.0) as client:
            client.enqueue_many([{"event": "Order Import", "order": {
                **make_update(order_number=n)["order"], "status": "Received"}} for n in orders])
            client.start()
            victim = int(wait_until(lambda: marker.exists() and marker.read_text(), 20,
                                    what="a worker inside the batch"))
            os.kill(victim, signal.SIGKILL)
            # Killed inside the batch's transaction: none of its orders may be stored.
            with sqlite3.connect(tmp_path / "oss.db") as db:
                assert db.execute("SELECT count(*) FROM orders").fetchone() == (0,)
                assert db.execute("SELECT count(*) FROM update_receipts").fetchone() == (0,)
            assert client.flush(60), client.status()
            status = client.status()
            assert status["dead"] == 0 and status["pending"] == 0, status
            client.stop()
        assert _stored(server, key, orders) == len(orders)
        for number in orders[:5]:
            order = requests.get(f"{server.url}/api/v1/orders/{number}", timeout=5,
                                 headers={"Authorization": f"Bearer {key}"}).json()
            # Applied once, never twice: one order-level change (plus one per line).
            assert len([h for h in order["history"] if h["line_id"] is None]) == 1
            assert len(order["history"]) == 1 + len(order["items"])
        assert re.search(rf"Worker \(pid:{victim}\) was sent SIGKILL|WORKER TIMEOUT|{victim}",
                         server.log())
    finally:
        server.stop()


def _stored(server, key, numbers) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    return sum(requests.get(f"{server.url}/api/v1/orders/{n}", headers=headers,
                            timeout=10).status_code == 200 for n in numbers)
