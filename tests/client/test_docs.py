"""The minimal receiver printed in docs/protocol.md really works with the client."""

import os
import re
import socket
import subprocess
import sys
import time

import pytest

from seom_client import Client

from .conftest import REPO, make_order

DOC = REPO / "docs" / "protocol.md"


@pytest.fixture
def doc_receiver(tmp_path):
    text = DOC.read_text()
    code = re.search(r"<!-- receiver-example -->\n```python\n(.*?)```", text, re.S).group(1)
    script = tmp_path / "receiver.py"
    script.write_text(code)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PORT": str(port), "RECEIVER_API_KEY": "cart_key",
           "RECEIVER_SIGNING_SECRET": "whsec_cart"}
    proc = subprocess.Popen([sys.executable, str(script)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


def test_documented_receiver_accepts_signed_updates(make_config, doc_receiver):
    config = make_config(doc_receiver, api_key="cart_key", generic_cart=True,
                         signing_secret="whsec_cart")
    with Client(config) as client:
        order = client.fire("Order Import", make_order("C-1", status="New")).order
        assert client.fire("Order Approve", order).queued
        client.enqueue({"order": make_order("C-2", status="")})  # rejected by the receiver
        assert client.flush(10)
        status = client.status()
        assert status["pending"] == 0 and status["dead"] == 1 and status["paused"] is None
        assert client.dead_letters()[0]["errors"] == {
            "order.status": ["Missing data for required field."]}


def test_documented_receiver_refuses_a_wrong_secret(make_config, doc_receiver):
    config = make_config(doc_receiver, api_key="cart_key", generic_cart=True,
                         signing_secret="whsec_wrong")
    with Client(config) as client:
        assert client.fire("Order Import", make_order("C-3", status="New")).queued
        assert not client.flush(0.5)
        assert "bad_signature" in client.status()["paused"]
