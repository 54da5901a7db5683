"""Benchmark: acknowledged fires through the site's bridge against local durable enqueue.

Eight callers fire events at one bridge (as `seom-client serve` runs it) over loopback;
each answer comes only after the update is committed to the site's queue. Workstations
are other machines, so the callers run in a process of their own (eight threads, one
keep-alive connection each) and do not share the bridge's interpreter lock. The baseline
is the client's own durable enqueue, timed in the same run in alternating rounds (both
are fsync-bound and the disk's fsync latency drifts).
Target: the bridge reaches at least 50 % of the local rate.
Usage: python -m benchmarks.client_bridge [COUNT]
"""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from time import perf_counter, process_time

from seom_client import Client, Config
from seom_client.bridge import make_server

from .client_enqueue import ORDER, enqueue_rate

CALLERS = 8
ROUNDS = 4
TOKEN = "bench-bridge-token"
REPO = Path(__file__).resolve().parents[1]


def _callers(port: int, per: int, prefix: str) -> float:
    """Fire per x CALLERS events from CALLERS threads; return the seconds they took.

    Runs in the caller process. Each thread opens its connection and fires once before
    the timing starts, so connection set-up is not timed.
    """
    ready = threading.Barrier(CALLERS + 1)
    done = threading.Barrier(CALLERS + 1)
    errors: list[str] = []
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

    def fire(conn: http.client.HTTPConnection, number: str) -> None:
        order = {**ORDER, "order_number": number, "status": "Received"}
        conn.request("POST", "/v1/fire", json.dumps({"event": "Order Approve", "order": order}),
                     headers)
        answer = conn.getresponse()
        body = answer.read()
        if answer.status != 200 or not json.loads(body)["queued"]:
            errors.append(body.decode(errors="replace"))

    def caller(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        fire(conn, f"{prefix}W{n}")
        ready.wait()
        for i in range(per):
            fire(conn, f"{prefix}{n}-{i}")
        done.wait()
        conn.close()

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(CALLERS)]
    for thread in threads:
        thread.start()
    ready.wait()
    start = perf_counter()
    done.wait()
    elapsed = perf_counter() - start
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} fires not queued, first: {errors[0]}")
    return elapsed


def bridge_rate(directory: str, total: int) -> tuple[float, float]:
    """Return acknowledged fires/s from CALLERS threads of another process, and the CPU
    seconds the bridge's process spent on them."""
    config = Config.new("http://127.0.0.1:9", "bench", path=Path(directory) / "b.json")
    config.save()
    per = max(1, total // CALLERS)
    with Client(config) as client:
        server = make_server(client, "127.0.0.1:0", token=TOKEN)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        cpu = process_time()
        try:
            env = {**os.environ, "PYTHONPATH": str(REPO)}
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks.client_bridge", "--callers",
                 str(server.server_address[1]), str(per), Path(directory).name],
                env=env, cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
            if proc.returncode != 0:
                raise RuntimeError(f"the callers failed:\n{proc.stderr}")
            elapsed = float(proc.stdout.strip().splitlines()[-1])
            cpu = process_time() - cpu
        finally:
            server.shutdown()
            server.server_close()
    return per * CALLERS / elapsed, cpu


def bridge(total: int) -> dict:
    """Bridge fires/s from 8 callers and local enqueue/s, alternated over ROUNDS rounds.

    Also the CPU milliseconds each costs its process: on a busy machine the wall-clock
    rates measure the scheduler as much as the code, the CPU cost does not.
    """
    per = max(CALLERS, total // ROUNDS)
    local_s = bridge_s = local_cpu = bridge_cpu = 0.0

    def via_bridge(tmp: str) -> None:
        nonlocal bridge_s, bridge_cpu
        rate, cpu = bridge_rate(tmp, per)
        bridge_s, bridge_cpu = bridge_s + per / rate, bridge_cpu + cpu

    for n in range(ROUNDS):
        with tempfile.TemporaryDirectory() as tmp:
            if n % 2:
                via_bridge(tmp)
            cpu = process_time()
            local_s += per / enqueue_rate(tmp, per)
            local_cpu += process_time() - cpu
            if not n % 2:
                via_bridge(tmp)
    local, bridged = per * ROUNDS / local_s, per * ROUNDS / bridge_s
    return {"local_per_s": local, "bridge_per_s": bridged, "ratio": bridged / local,
            "callers": CALLERS, "local_cpu_ms": local_cpu * 1000 / (per * ROUNDS),
            "bridge_cpu_ms": bridge_cpu * 1000 / (per * ROUNDS)}


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--callers":
        print(_callers(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))
        return 0
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    result = bridge(total)
    print(f"local durable enqueue:                 {result['local_per_s']:8.0f}/s")
    print(f"bridge, {CALLERS} callers, acknowledged fires: {result['bridge_per_s']:8.0f}/s"
          f"  ({result['ratio']:.0%} of local)")
    print(f"CPU per update: local {result['local_cpu_ms']:.2f} ms, "
          f"bridge process {result['bridge_cpu_ms']:.2f} ms")
    ok = result["ratio"] >= 0.5
    print("PASS" if ok else "FAIL: below 50 % of the local rate")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
