"""Fixtures for the seom_client tests: a fault-injecting receiver, configs, clients, orders."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seom_client import Client, Config

from .receiver import Receiver

REPO = Path(__file__).resolve().parents[2]

# Fast timings so retries, pauses and polls take milliseconds, not minutes. The request
# timeout is not one of them: a request that is merely slow on a loaded machine must not
# time out and fail a flush(); a test about timeouts sets its own short one.
FAST = {"backoff_base_s": 0.01, "backoff_cap_s": 0.05, "pause_recheck_s": 0.1,
        "idle_poll_s": 0.02, "heartbeat_s": 0.2, "timeout_s": 10.0}


@pytest.fixture
def receiver():
    """A started fault-injecting receiver on an ephemeral loopback port."""
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def make_config(tmp_path):
    """Write a config file for a URL and return its Config."""
    def make(url="http://127.0.0.1:9", api_key="oss_test_secret", name="seom-client.json",
             **settings):
        config = Config.new(url, api_key, path=tmp_path / name)
        for key in ("signing_secret", "generic_cart", "use_status_updates", "queue_path"):
            if key in settings:
                setattr(config, key, settings.pop(key))
        config.settings.update(FAST)
        config.settings.update(settings)
        config.save()
        return config
    return make


@pytest.fixture
def make_client(make_config):
    """Return Clients on fresh configs; all are closed after the test."""
    clients = []

    def make(url="http://127.0.0.1:9", **kwargs):
        rand = kwargs.pop("rand", lambda: 1.0)
        client = Client(make_config(url, **kwargs), rand=rand)
        clients.append(client)
        return client
    yield make
    for client in clients:
        client.close()


def make_order(number="1001", status="Received", lines=2, **extra):
    """Return an order snapshot in the wire protocol's shape."""
    order = {
        "order_number": str(number), "status": status,
        "bill_to": {"name": "Ada Shopper", "zip": "90210", "email": "ada@example.com"},
        "ship_to": {"name": "Ada Shopper"},
        "items": [{"line_id": str(i), "sku": f"SKU-{i}", "name": f"Thing {i}",
                   "qty_ordered": 1, "qty_shipped": 0, "qty_needed": 1, "status": "Item Added"}
                  for i in range(1, lines + 1)],
        "tracking": [],
    }
    order.update(extra)
    return order


@pytest.fixture
def order():
    """A two-line order snapshot."""
    return make_order()


@pytest.fixture
def cli(tmp_path):
    """Run `python -m seom_client` in a subprocess; return the CompletedProcess."""
    def run(*args, config=None, input=None, env=None, check=None):
        config = config or tmp_path / "seom-client.json"
        full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        proc = subprocess.run([sys.executable, "-m", "seom_client", "--config", str(config), *args],
                              capture_output=True, text=True, input=input, env=full_env,
                              timeout=60)
        if check is not None:
            assert proc.returncode == check, proc.stdout + proc.stderr
        return proc
    return run


def write_json(path, data):
    """Write data as JSON and return the path."""
    Path(path).write_text(json.dumps(data))
    return path
