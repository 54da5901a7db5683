"""Benchmark: durable Client.enqueue against raw sqlite3 single-commit inserts (WAL, full fsync).

Target: enqueue reaches at least 50 % of the raw insert rate measured in the same run.
Usage: python benchmarks/client_enqueue.py [COUNT]
"""

import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from seom_client import Client, Config

ORDER = {"order_number": "1001", "status": "Shipped", "bill_to": {"zip": "90210"},
         "items": [{"line_id": "1", "sku": "A", "name": "Mug", "qty_ordered": 1,
                    "qty_shipped": 1, "qty_needed": 0, "status": "Item Shipped"}]}


def raw_rate(path, count):
    """Return inserts/s of one-row transactions on a WAL, synchronous=FULL file."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    body = json.dumps({"order": ORDER})
    start = time.perf_counter()
    for _ in range(count):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (body) VALUES (?)", (body,))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return count / elapsed


def enqueue_rate(directory, count):
    """Return Client.enqueue calls/s (each durable when it returns)."""
    config = Config.new("http://127.0.0.1:9", "bench", path=Path(directory) / "c.json")
    config.save()
    with Client(config) as client:
        client.enqueue({"order": ORDER})  # open the file outside the timing
        start = time.perf_counter()
        for _ in range(count):
            client.enqueue({"order": ORDER})
        return count / (time.perf_counter() - start)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    raws, ourss = [], []
    for _round in range(3):  # interleaved, best of three: the disk's mood varies
        with tempfile.TemporaryDirectory() as tmp:
            raws.append(raw_rate(Path(tmp) / "raw.sqlite", count))
            ourss.append(enqueue_rate(tmp, count))
    raw, ours = max(raws), max(ourss)
    ratio = ours / raw
    print(f"raw sqlite3 single-commit inserts: {raw:10.0f}/s")
    print(f"seom_client durable enqueue:       {ours:10.0f}/s  ({ratio:.0%} of raw)")
    print("PASS" if ratio >= 0.5 else "FAIL: below 50 % of raw")
    return 0 if ratio >= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
