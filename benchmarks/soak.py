"""Soak: mixed traffic at 80 % of the measured maximum rate for 10 minutes (not run in CI).

    python -m benchmarks.soak                       # SQLite, 2 workers, 10 minutes
    python -m benchmarks.soak --minutes 2 --database-url postgresql://postgres@127.0.0.1/soak

Starts gunicorn with the project's gunicorn.conf.py on a free loopback port (worker
recycling off, so memory growth would show), measures the maximum rate of the traffic
mix for a short calibration, then holds 80 % of it. Passes (exit 0) with 0 errors and
every worker's resident memory within 10 % of where it stood after the first minute.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.hardening.servers import Gunicorn, provision  # noqa: E402

ORDERS = 500
GROWTH_LIMIT = 0.10


def update(number: int, sequence: int) -> dict:
    """A full snapshot of order SK-<number> at step *sequence*."""
    return {"update_id": f"soak-{number}-{sequence}-{random.getrandbits(32):x}",
            "sequence": sequence, "occurred_at": "2026-11-20T10:00:00+00:00",
            "order": {"order_number": f"SK-{number}", "status": f"Step {sequence}",
                      "bill_to": {"name": "Pat", "zip": "10001"},
                      "items": [{"line_id": "1", "sku": "MUG", "qty_ordered": 1}]}}


class Traffic:
    """The mix: 60 % batches of 10 updates, 25 % order reads, 10 % lookups, 5 % probes."""

    def __init__(self, url: str, key: str):
        self.url, self.key = url, key
        self.sequence = 1000
        self.lock = threading.Lock()

    def one(self, session: requests.Session) -> tuple[str, bool]:
        auth = {"Authorization": f"Bearer {self.key}"}
        roll = random.random()
        if roll < 0.60:
            with self.lock:
                self.sequence += 1
                sequence = self.sequence
            body = {"updates": [update(random.randrange(ORDERS), sequence) for _ in range(10)]}
            r = session.post(f"{self.url}/api/v1/updates", json=body, headers=auth, timeout=30)
            return "batch", r.status_code == 200
        if roll < 0.85:
            r = session.get(f"{self.url}/api/v1/orders/SK-{random.randrange(ORDERS)}",
                            headers=auth, timeout=30)
            return "read", r.status_code == 200
        if roll < 0.95:
            r = session.post(f"{self.url}/api/v1/lookup", timeout=30, json={
                "store": "soak", "order_number": f"SK-{random.randrange(ORDERS)}",
                "verifier": "10001"})
            return "lookup", r.status_code == 200
        r = session.get(f"{self.url}/{random.choice(['healthz', 'readyz', 'metrics'])}",
                        timeout=30)
        return "probe", r.status_code == 200


def run(traffic: Traffic, seconds: float, threads: int, rate: float | None) -> dict:
    """Send the mix for *seconds*, paced to *rate* requests/s in total (None: flat out)."""
    counts, errors = Counter(), Counter()
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    interval = threads / rate if rate else 0.0

    def worker():
        session = requests.Session()
        next_at = time.monotonic() + random.random() * interval
        while time.monotonic() < stop:
            if interval:
                time.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
            try:
                kind, ok = traffic.one(session)
            except requests.RequestException:
                kind, ok = "network", False
            with lock:
                counts[kind] += 1
                if not ok:
                    errors[kind] += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    total = sum(counts.values())
    return {"requests": total, "rate": total / seconds, "by_kind": dict(counts),
            "errors": dict(errors)}


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--fraction", type=float, default=0.8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--calibrate-seconds", type=float, default=20.0)
    parser.add_argument("--database-url", default=None,
                        help="an empty database (default: a new SQLite file)")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="oss-soak-"))
    url = args.database_url or f"sqlite:///{tmp}/oss.db"
    from oss_server.config import normalise_database_url

    key = provision(normalise_database_url(url), slug="soak")
    (tmp / "metrics").mkdir()
    server = Gunicorn({"OSS_DATABASE_URL": url, "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics"),
                       "OSS_API_RATE_LIMIT": "1000000 per minute",
                       "OSS_LOOKUP_LIMIT_PER_IP": "1000000 per minute"},
                      workers=args.workers, extra_args=["--max-requests", "0"],
                      log_dir=tmp).start()
    try:
        traffic = Traffic(server.url, key)
        for number in range(0, ORDERS, 10):  # every order exists before reads start
            requests.post(f"{server.url}/api/v1/updates", timeout=30,
                          headers={"Authorization": f"Bearer {key}"},
                          json={"updates": [update(n, 1) for n in range(number, number + 10)]})
        peak = run(traffic, args.calibrate_seconds, args.threads, None)
        target = peak["rate"] * args.fraction
        print(f"measured maximum {peak['rate']:.1f} req/s; soaking at {target:.1f} req/s "
              f"for {args.minutes} min", flush=True)
        samples, results = [], []
        deadline = time.monotonic() + args.minutes * 60
        while time.monotonic() < deadline:
            chunk = min(60.0, deadline - time.monotonic())
            results.append(run(traffic, chunk, args.threads, target))
            samples.append({pid: rss_kib(pid) for pid in server.workers()})
            print(json.dumps({"minute": len(samples), **results[-1], "rss_kib": samples[-1]}),
                  flush=True)
        errors = sum(sum(r["errors"].values()) for r in results)
        baseline, last = samples[0], samples[-1]
        growth = max((last[pid] - baseline[pid]) / baseline[pid]
                     for pid in baseline if pid in last and baseline[pid]) if baseline else 0.0
        summary = {"target_rate": round(target, 1), "requests": sum(r["requests"] for r in results),
                   "errors": errors, "worker_rss_growth": round(growth, 3),
                   "workers_restarted": set(baseline) != set(last)}
        print(json.dumps(summary), flush=True)
        ok = errors == 0 and growth <= GROWTH_LIMIT and not summary["workers_restarted"]
        return 0 if ok else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
