"""A real oss_server on loopback for the client tests (import ``live`` as a fixture)."""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
import requests

from .conftest import REPO

OSS = [sys.executable, "-c", "import sys; from oss_server.cli import main; sys.exit(main())"]


def free_port():
    """Return a loopback port nothing listens on (at the time of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_oss(tmp, secret, setup):
    """Run ``setup(oss)`` on a fresh SQLite database, then `oss-server run`.

    Yields (base URL, what ``setup`` returned).

    ``oss(*args, input=None)`` runs one operator command and returns its stdout.
    """
    pytest.importorskip("oss_server", reason="the live-server tests need the server installed")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OSS_DATABASE_URL": f"sqlite:///{tmp}/oss.db",
           "OSS_SECRET_KEY": f"{secret}-secret", "OSS_FACTOR_KEY": f"{secret}-factor-key"}

    def oss(*args, input=None):
        proc = subprocess.run([*OSS, *args], env=env, cwd=tmp, capture_output=True, text=True,
                              input=input, timeout=60)
        assert proc.returncode == 0, f"oss-server {args[0]} failed:\n{proc.stdout}{proc.stderr}"
        return proc.stdout

    oss("init-db")
    made = setup(oss)
    port = free_port()
    server = subprocess.Popen([*OSS, "run", "--port", str(port)], env=env, cwd=tmp,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"oss-server run did not come up:\n{server.stderr.read()}")
        time.sleep(0.1)
    try:
        yield url, made
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        server.stderr.close()


def _one_store(oss):
    oss("create-merchant", "merchant@example.com", input="a long enough passphrase 42\n")
    oss("create-store", "merchant@example.com", "live-shop", "--name", "Live Shop")
    key = oss("create-api-key", "live-shop").strip()
    assert key.startswith("oss_")
    return key


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """Start `oss-server run` on a fresh SQLite database; yield (base URL, API key)."""
    with running_oss(tmp_path_factory.mktemp("oss"), "live-test", _one_store) as (url, key):
        yield url, key


def fetch(live, number):
    """GET an order from the live server's API."""
    url, key = live
    return requests.get(f"{url}/api/v1/orders/{number}",
                        headers={"Authorization": f"Bearer {key}"}, timeout=10)
