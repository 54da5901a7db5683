"""The failure limit holds across worker processes: two real servers share one counter."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import TEST_FACTOR_KEY

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(url + "/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"server at {url} did not start within {timeout}s")


@pytest.fixture
def two_servers(database_url, store, order, tmp_path):
    env = {**os.environ, "OSS_DATABASE_URL": database_url, "OSS_SECRET_KEY": "test-secret",
           "OSS_FACTOR_KEY": TEST_FACTOR_KEY, "OSS_RATELIMIT_STORAGE_URI": "memory://"}
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    servers = []
    try:
        for n in range(2):
            port = _free_port()
            log = tmp_path / f"server{n}.log"
            with open(log, "wb") as out:
                process = subprocess.Popen(
                    [gunicorn, "--workers", "1", "--bind", f"127.0.0.1:{port}", "--timeout", "30",
                     "--chdir", str(ROOT), "wsgi:app"],
                    env=env, stdout=out, stderr=subprocess.STDOUT)
            servers.append((f"http://127.0.0.1:{port}", process, log))
        for url, process, log in servers:
            _wait_ready(url, process, log)
        yield [url for url, _, _ in servers]
    finally:
        for _, process, _ in servers:
            process.terminate()
        for _, process, _ in servers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _lookup(http: requests.Session, base: str, number: str, verifier: str):
    page = http.get(f"{base}/s/acme/", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    return http.post(f"{base}/s/acme/lookup", timeout=10, allow_redirects=False,
                     data={"csrf_token": token, "order_number": number, "verifier": verifier})


@pytest.mark.slow
def test_sixth_failure_is_refused_across_two_server_processes(two_servers):
    a, b = two_servers
    http = requests.Session()
    for attempt in range(5):
        server = (a, b)[attempt % 2]  # failures alternate between the two processes
        assert _lookup(http, server, "1001", f"9000{attempt}").status_code == 200
    refused = _lookup(http, a if attempt % 2 else b, "1001", "10001")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many attempts" in refused.text
    # Neither process lets the right verifier through until the window moves on.
    assert _lookup(http, a, "1001", "10001").status_code == 429
    assert _lookup(http, b, "W-1001", "10001").status_code == 303  # another number as typed
