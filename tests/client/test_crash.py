"""Crash tests: a real `seom-client run` killed with SIGKILL at random and at injected points.

Meanwhile another process keeps enqueueing and is killed too. Afterwards
every update whose enqueue returned is applied exactly once at the receiver,
each order's updates arrived in order, and the SQLite file is intact.
"""

import os
import random
import subprocess
import sys
import time

import pytest

from seom_client import Client, Config

from .conftest import REPO, make_order

pytestmark = pytest.mark.slow

CRASH_POINTS = ["after_response", "after_claim", "after_settle"]
ENQUEUER = """
import sys
from seom_client import Client
client = Client(sys.argv[1])
n = 0
while True:
    u = client.enqueue({"order": {"order_number": "E-%d" % (n % 5), "status": "S%d" % n}})
    print(u["update_id"], flush=True)   # printed only once the enqueue is durable
    n += 1
"""


def _env(**extra):
    return {**os.environ, "PYTHONPATH": str(REPO), **extra}


def _run(config_path, **env):
    return subprocess.Popen([sys.executable, "-m", "seom_client", "--config", str(config_path),
                             "run"], env=_env(**env), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def test_sigkill_at_any_moment_loses_nothing_and_applies_once(make_config, receiver):
    rng = random.Random(os.environ.get("SEOM_CRASH_SEED", "5"))
    config = make_config(receiver.url, batch_max_updates=25, timeout_s=5.0)
    client = Client(Config.load(config.path))
    expected = set()
    for chunk in range(12):  # 1,200 updates over 40 orders, queued before any sender runs
        updates = [{"order": make_order(f"O-{i % 40}", status=f"S{chunk}-{i}")} for i in range(100)]
        expected |= {u["update_id"] for u in client.enqueue_many(updates)}

    enqueuer = subprocess.Popen([sys.executable, "-c", ENQUEUER, str(config.path)],
                                env=_env(), stdout=subprocess.PIPE, text=True)
    kills = {"injected": 0, "random": 0}
    try:
        for cycle in range(18):
            if cycle % 2 == 0:
                point = CRASH_POINTS[(cycle // 2) % len(CRASH_POINTS)]
                proc = _run(config.path, SEOM_CLIENT_CRASH_POINT=point)
                assert proc.wait(30) == 70, f"crash point {point} was not reached"
                kills["injected"] += 1
            else:
                proc = _run(config.path)
                time.sleep(rng.uniform(0.2, 0.9))  # start-up takes ~0.2s
                proc.kill()  # SIGKILL; TerminateProcess on Windows
                proc.wait(30)
                kills["random"] += 1
            if cycle == 11:
                enqueuer.kill()  # killed mid-stream, too
    finally:
        if enqueuer.poll() is None:
            enqueuer.kill()
        enqueued_by_child = {line.strip() for line in enqueuer.communicate()[0].splitlines()
                             if line.strip()}
    expected |= enqueued_by_child
    assert len(enqueued_by_child) > 10

    # A clean drain afterwards picks up whatever is left.
    final = subprocess.run([sys.executable, "-m", "seom_client", "--config", str(config.path),
                            "run", "--once"], env=_env(), capture_output=True, text=True,
                           timeout=60)
    assert final.returncode == 0, final.stderr

    status = client.status()
    assert status["pending"] == 0 and status["dead"] == 0 and status["running"] is False
    assert expected <= set(receiver.applied), "an update whose enqueue returned was lost"
    assert set(receiver.applied.values()) == {1}, "an update was applied twice"
    assert receiver.results["stale"] == 0, "an order's updates arrived out of order"
    for sequences in receiver.sequence_by_order.values():
        assert sequences == sorted(sequences)
    assert receiver.results["duplicate"] > 0  # the crashes really did force resends
    assert client.queue.integrity_check() == "ok"
    assert kills == {"injected": 9, "random": 9}
    client.close()
