"""Benchmark: drain a backlog to a local receiver; report updates/s and controller memory.

Targets: at least 5,000 updates/s to a loopback receiver, and resident memory flat while a
100,000-update backlog drains. Usage: python benchmarks/client_drain.py [COUNT]
"""

import json
import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from seom_client import Client, Config


class Handler(BaseHTTPRequestHandler):
    """Answer every update 'applied' (the cheapest correct receiver)."""

    protocol_version = "HTTP/1.1"
    # The headers and the body leave in two writes. With Nagle's algorithm on, the body
    # waits for the client's delayed ACK of the headers (about 40 ms a batch on Linux),
    # which measured that wait instead of the client. Gunicorn sets TCP_NODELAY on its
    # sockets; so does this receiver.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_POST(self):
        updates = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["updates"]
        body = json.dumps({"results": [{"update_id": u["update_id"], "result": "applied"}
                                       for u in updates]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def rss_mib():
    """Return this process's resident set size in MiB (Linux)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        config = Config.new(url, "bench", path=Path(tmp) / "c.json")
        config.save()
        with Client(config) as client:
            for start in range(0, count, 5000):
                client.enqueue_many(
                    [{"order": {"order_number": f"O-{i % 997}", "status": "Shipped",
                                "bill_to": {"zip": "90210"}}}
                     for i in range(start, min(count, start + 5000))])
            samples = []
            controller = client.controller()
            controller.acquire()
            began = time.perf_counter()
            summary = controller.run(once=True,
                                     on_progress=lambda s: samples.append((s.delivered, rss_mib())))
            elapsed = time.perf_counter() - began
            controller.release()
            assert summary.delivered == count and client.status()["pending"] == 0
    server.shutdown()
    rate = count / elapsed
    early = next(m for n, m in samples if n >= count // 10)
    late = samples[-1][1]
    print(f"drained {count} updates in {elapsed:.1f}s: {rate:,.0f} updates/s")
    print(f"resident memory after 10%: {early:.1f} MiB, at the end: {late:.1f} MiB")
    ok = rate >= 5000 and late - early < 20
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
