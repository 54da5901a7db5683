"""End to end against a real oss_server on loopback, set up with its operator CLI."""

import json
import os
import subprocess
import sys

import pytest

from seom_client import Client, Config

from .conftest import FAST, REPO, make_order
from .oss_live import fetch, live  # noqa: F401  (a fixture)

try:
    import oss_server  # noqa: F401  (only to know whether the server is present)
except ImportError as exc:
    pytest.skip(f"oss_server is not importable ({exc}); the live-server test needs it",
                allow_module_level=True)

pytestmark = pytest.mark.slow


@pytest.fixture
def live_client(live, tmp_path):
    url, key = live
    config = Config.new(url, key, path=tmp_path / "seom-client.json")
    config.settings.update(FAST)
    config.save()
    client = Client(config)
    yield client
    client.close()


def test_events_reach_the_server_in_order(live, live_client):
    order = make_order("L-1001", status="New", lines=2)
    order = live_client.fire("Order Import", order).order
    order = live_client.fire("Order Approve", order).order
    order = live_client.fire("Item Force Backorder", order, items=["2"]).order
    order["tracking"] = [{"number": "1Z999AA10123456784"}]
    order = live_client.fire("Order Add Tracking Number", order).order
    assert live_client.status()["pending"] == 4
    assert live_client.flush(30)
    status = live_client.status()
    assert status["dead"] == 0 and status["paused"] is None, status
    response = fetch(live, "L-1001")
    assert response.status_code == 200
    stored = response.json()
    assert stored["status"] == "Shipped"
    assert [i["status"] for i in stored["items"]] == ["Item Shipped", "Item Shipped"]
    assert "zip" not in json.dumps(stored.get("bill_to", {}))


def test_resend_after_a_crash_is_a_duplicate_not_a_second_apply(live, live_client):
    live_client.fire("Order Import", make_order("L-2002", status="New"))
    env = {**os.environ, "PYTHONPATH": str(REPO), "SEOM_CLIENT_CRASH_POINT": "after_response"}
    cmd = [sys.executable, "-m", "seom_client", "--config", str(live_client.config.path), "run"]
    assert subprocess.run(cmd, env=env, timeout=60).returncode == 70
    assert live_client.status()["pending"] == 1  # the server has it; we do not know yet
    assert live_client.flush(30)
    assert live_client.status()["dead"] == 0
    stored = fetch(live, "L-2002").json()
    assert stored["status"] == "Received"
    history = [(h.get("line_id"), h.get("occurred_at")) for h in stored["history"]]
    assert history and len(history) == len(set(history))  # the resend added no second entry


def test_invalid_update_is_dead_lettered_with_the_servers_errors(live, live_client):
    live_client.enqueue({"order": make_order("L-3003", ship_to={"name": "x", "colour": "red"})})
    live_client.fire("Order Import", make_order("L-3004", status="New"))
    assert live_client.flush(30)
    dead = live_client.dead_letters()
    assert [d["order_number"] for d in dead] == ["L-3003"]
    assert dead[0]["errors"]
    assert fetch(live, "L-3004").status_code == 200
    assert fetch(live, "L-3003").status_code == 404


def test_wrong_key_pauses_without_dead_letters(live, tmp_path):
    url, _ = live
    config = Config.new(url, "oss_nope_nope", path=tmp_path / "bad.json")
    config.settings.update(FAST)
    config.save()
    with Client(config) as client:
        client.fire("Order Import", make_order("L-4004", status="New"))
        assert not client.flush(1)
        status = client.status()
        assert status["paused"] and "401" in status["paused"]
        assert status["pending"] == 1 and status["dead"] == 0
