"""The client: durable enqueue against raw sqlite3, drain to a server, controller memory."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .client_drain import Handler
from .client_enqueue import enqueue_rate, raw_rate
from .servers import REPO, rss_mb
from .workload import update

ENQUEUE_ROUNDS = 6


def enqueue(count: int) -> dict:
    """Client.enqueue calls/s against raw single-commit inserts, in this process.

    Both are fsync-bound, and the disk's fsync latency drifts over seconds: the two are
    timed in alternating rounds (each side first in every other round) and summed, so
    the drift reaches both sides instead of the ratio.
    """
    per = max(1, count // ENQUEUE_ROUNDS)
    raw_s = ours_s = 0.0
    for n in range(ENQUEUE_ROUNDS):
        with tempfile.TemporaryDirectory() as tmp:
            if n % 2:
                ours_s += per / enqueue_rate(tmp, per)
            raw_s += per / raw_rate(Path(tmp) / "raw.sqlite", per)
            if not n % 2:
                ours_s += per / enqueue_rate(tmp, per)
    raw, ours = per * ENQUEUE_ROUNDS / raw_s, per * ENQUEUE_ROUNDS / ours_s
    return {"raw_per_s": raw, "enqueue_per_s": ours, "ratio": ours / raw}


def _fill(config, count: int, orders: int, prefix: str) -> None:
    """Queue *count* updates over *orders* orders (each order's steps in order)."""
    from seom_client import Client

    rng = random.Random(3)
    with Client(config) as client:
        chunk = []
        for n in range(count):
            number = f"{prefix}{n % orders:07d}"
            step = n // orders
            item = update(number, step, rng)
            # The client fills id, sequence and time, as an order manager's install would.
            chunk.append({"event": item["event"], "order": item["order"]})
            if len(chunk) == 5000:
                client.enqueue_many(chunk)
                chunk = []
        if chunk:
            client.enqueue_many(chunk)


def _config(directory: str, server_url: str, api_key: str):
    from seom_client import Config

    config = Config.new(server_url, api_key, path=Path(directory) / "seom-client.json")
    config.save()
    return config


def drain(server_url: str, api_key: str, count: int, prefix: str) -> dict:
    """Queue *count* updates, then time the controller sending them all (``run --once``)."""
    from seom_client import Client

    with tempfile.TemporaryDirectory() as tmp:
        config = _config(tmp, server_url, api_key)
        _fill(config, count, max(1, count // 4), prefix)
        with Client(config) as client:
            controller = client.controller()
            controller.acquire()
            try:
                started = time.perf_counter()
                summary = controller.run(once=True)
                elapsed = time.perf_counter() - started
            finally:
                controller.release()
            left = client.status()["pending"]
    return {"updates_per_s": summary.delivered / elapsed, "delivered": summary.delivered,
            "dead": summary.dead, "left": left, "stopped": summary.stopped}


def drain_stub(count: int) -> dict:
    """The client's own ceiling: drain to a loopback receiver that answers 'applied' at once."""
    from http.server import ThreadingHTTPServer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        return drain(f"http://127.0.0.1:{server.server_address[1]}", "bench", count, "S")
    finally:
        server.shutdown()
        server.server_close()


def controller_memory(server_url: str, api_key: str, count: int, prefix: str) -> dict:
    """RSS of a ``seom-client run --once`` process draining a *count*-update backlog."""
    with tempfile.TemporaryDirectory() as tmp:
        config = _config(tmp, server_url, api_key)
        _fill(config, count, max(1, count // 10), prefix)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        process = subprocess.Popen(
            [sys.executable, "-m", "seom_client", "--config", str(config.path), "run", "--once"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples: list[float] = []

        def watch() -> None:
            while process.poll() is None:
                value = rss_mb(process.pid)
                if value is not None:
                    samples.append(value)
                time.sleep(0.25)

        watcher = threading.Thread(target=watch)
        watcher.start()
        started = time.perf_counter()
        try:
            process.wait(timeout=900)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        watcher.join()
        elapsed = time.perf_counter() - started
    # The first second is imports; "flat" compares the rest of the run.
    steady = samples[4:] or samples
    return {"backlog": count, "seconds": elapsed, "rss_first_mb": steady[0] if steady else None,
            "rss_max_mb": max(steady) if steady else None,
            "rss_last_mb": steady[-1] if steady else None, "exit": process.returncode}
