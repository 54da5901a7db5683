"""A real oss_server on loopback for the client tests (import ``live`` as a fixture)."""

import os
import socket
import subprocess
import sys
import time

import pytest
import requests

from .conftest import REPO

OSS = [sys.executable, "-c", "import sys; from oss_server.cli import main; sys.exit(main())"]


def free_port():
    """Return a loopback port nothing listens on (at the time of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """Start `oss-server run` on a fresh SQLite database; yield (base URL, API key)."""
    pytest.importorskip("oss_server", reason="the live-server tests need the server installed")
    tmp = tmp_path_factory.mktemp("oss")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OSS_DATABASE_URL": f"sqlite:///{tmp}/oss.db",
           "OSS_SECRET_KEY": "live-test-secret", "OSS_FACTOR_KEY": "live-test-factor-key"}

    def oss(*args, input=None):
        proc = subprocess.run([*OSS, *args], env=env, cwd=tmp, capture_output=True, text=True,
                              input=input, timeout=60)
        assert proc.returncode == 0, f"oss-server {args[0]} failed:\n{proc.stdout}{proc.stderr}"
        return proc.stdout

    oss("init-db")
    oss("create-merchant", "merchant@example.com", input="a long enough passphrase 42\n")
    oss("create-store", "merchant@example.com", "live-shop", "--name", "Live Shop")
    key = oss("create-api-key", "live-shop").strip()
    assert key.startswith("oss_")
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
    yield url, key
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
    server.stderr.close()


def fetch(live, number):
    """GET an order from the live server's API."""
    url, key = live
    return requests.get(f"{url}/api/v1/orders/{number}",
                        headers={"Authorization": f"Bearer {key}"}, timeout=10)
