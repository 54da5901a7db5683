"""A fault-injecting receiver of wire protocol v1 for the client tests.

It dedupes by update_id, counts how often each update was applied, keeps the
newest (occurred_at, sequence) per order, and misbehaves on request: each
entry of ``faults`` is used by one POST.
"""

import hashlib
import hmac
import io
import json
import socket
import struct
import threading
import time
from collections import defaultdict, deque
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = {"ok", "reset_before", "reset_after", "slow", "500", "503", "429", "401", "402",
          "403", "413", "malformed", "partial", "404", "400", "422"}


class Receiver:
    """State and controls of one fault-injecting receiver."""

    def __init__(self, api_key="oss_test_secret", signing_secret=None):
        self.api_key = api_key
        self.signing_secret = signing_secret
        self.faults = deque()
        self.sticky = None          # a fault answered to every request until cleared
        self.retry_after = "1"
        self.slow_s = 0.6
        self.max_batch = 500
        self.reject = lambda update: None   # update -> errors dict, or None to accept
        self.refuse = lambda update: False  # True: answer 400 to any request holding it
        self.lock = threading.Lock()
        self.seen = set()
        self.applied = defaultdict(int)     # update_id -> times applied
        self.sequence_by_order = defaultdict(list)  # order_number -> sequences as applied
        self.latest = {}
        self.results = defaultdict(int)
        self.requests = []                  # (monotonic time, status, batch size, headers)
        self.server = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, port=0):
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self):
        host, port = self.server.server_address
        return f"http://{host}:{port}"

    @property
    def port(self):
        return self.server.server_address[1]

    # -- protocol --------------------------------------------------------------------------

    def next_fault(self):
        with self.lock:
            if self.sticky:
                return self.sticky
            return self.faults.popleft() if self.faults else "ok"

    def process(self, updates):
        """Apply a batch as the protocol says; return the results list."""
        results = []
        with self.lock:
            for update in updates:
                uid = update["update_id"]
                if uid in self.seen:
                    results.append({"update_id": uid, "result": "duplicate"})
                    continue
                errors = self.reject(update)
                if errors:
                    results.append({"update_id": uid, "result": "rejected", "errors": errors})
                    continue
                self.seen.add(uid)
                number = update["order"]["order_number"]
                key = (datetime.fromisoformat(update["occurred_at"]), update["sequence"])
                if number in self.latest and key <= self.latest[number]:
                    results.append({"update_id": uid, "result": "stale"})
                    continue
                self.latest[number] = key
                self.applied[uid] += 1
                self.sequence_by_order[number].append(update["sequence"])
                results.append({"update_id": uid, "result": "applied"})
            for r in results:
                self.results[r["result"]] += 1
        return results

    def verify_signature(self, header, body):
        try:
            parts = dict(p.split("=", 1) for p in (header or "").split(","))
            t = int(parts["t"])
        except (ValueError, KeyError):
            return False
        mac = hmac.new(self.signing_secret.encode(), f"{t}.".encode() + body, hashlib.sha256)
        return abs(time.time() - t) <= 300 and hmac.compare_digest(mac.hexdigest(), parts["v1"])


def _handler(receiver):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _json(self, status, payload, headers=None):
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
            receiver.requests.append((time.monotonic(), status, self._n, dict(self.headers)))

        def _error(self, status, code, headers=None):
            self._json(status, {"error": {"code": code, "message": f"fault {code}"}}, headers)

        def _reset(self):
            # SO_LINGER 0 makes close() send an RST: the client sees "connection reset".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.wfile = io.BytesIO()
            self.close_connection = True
            receiver.requests.append((time.monotonic(), "reset", self._n, dict(self.headers)))

        def do_POST(self):
            self._n = 0
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            fault = receiver.next_fault()
            if fault == "reset_before":
                return self._reset()
            if self.headers.get("Authorization") != f"Bearer {receiver.api_key}":
                return self._error(401, "invalid_api_key")
            if receiver.signing_secret and not receiver.verify_signature(
                    self.headers.get("OSS-Signature"), body):
                return self._error(401, "bad_signature")
            if fault in ("401", "402", "403"):
                code = {"401": "invalid_api_key", "402": "subscription_expired",
                        "403": "forbidden"}[fault]
                return self._error(int(fault), code)
            if fault in ("500", "503", "404"):
                return self._error(int(fault), "unavailable")
            if fault == "429":
                return self._error(429, "rate_limited", {"Retry-After": receiver.retry_after})
            try:
                updates = json.loads(body)["updates"]
            except (ValueError, KeyError, TypeError):
                return self._error(400, "bad_request")
            self._n = len(updates)
            if fault in ("400", "422"):  # a proxy or cart refusing the whole request
                return self._error(int(fault), "refused")
            refused = [u.get("update_id") for u in updates if receiver.refuse(u)]
            if refused:  # a cart that answers a bad update with a whole-request 400
                return self._json(400, {"error": {"code": "bad_update",
                                                  "message": f"cannot store {refused[0]}"}})
            if fault == "413" or len(updates) > receiver.max_batch:
                return self._error(413, "too_large")
            if fault == "slow":
                time.sleep(receiver.slow_s)
            results = receiver.process(updates)
            if fault == "reset_after":
                return self._reset()
            if fault == "malformed":
                self.send_response(200)
                self.send_header("Content-Length", "9")
                self.end_headers()
                self.wfile.write(b"not json{")
                return
            if fault == "partial":
                results = results[: len(results) // 2]
            self._json(200, {"results": results})

    return Handler
