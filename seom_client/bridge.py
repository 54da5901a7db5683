"""The site's shared stack controller: the controller plus a small HTTP bridge (SPEC §7a).

One workstation of a shop runs ``seom-client serve``; every other workstation, and an
order manager written in any language, hands its events to this process with one HTTP
call. The bridge owns the site's one queue, one label memory and one sequence.

Why the standard library's threaded HTTP server: a shop's LAN sends a few events a second
at most, fires are answered after the queue's commit (fires that arrive during one commit
share the next), and the client must stay ``requests``-only. Figures are in
docs/performance.md.

Labels and events changed on this machine (``seom-client labels add …``) take effect at
the next fire: the config file is re-read when it changed. The bridge token is not: it is
read when ``serve`` starts, as the listen address it guards is.
"""
from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from .client import Client, FireResult
from .config import Config
from .errors import ConfigError, EventError, SeomClientError, UpdateError

log = logging.getLogger(__name__)

DEFAULT_LISTEN = "127.0.0.1:8765"
MAX_BODY = 1024 * 1024


def parse_listen(listen: str) -> tuple[str, int]:
    """Split ``HOST:PORT`` (``[v6]:PORT`` too); raise ConfigError when it is not one."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdecimal() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"--listen takes HOST:PORT, got {listen!r}")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def is_loopback(host: str) -> bool:
    """Tell whether a listen address only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def fire_answer(result: FireResult) -> dict[str, Any]:
    """Return the JSON answer to a fire: queued, the update id and each label's change."""
    changes: list[dict[str, Any]] = []
    if result.order_status is not None:
        before, after = result.order_status
        changes.append({"level": "order", "before": before, "after": after})
    for line_id, (before, after) in sorted(result.items.items()):
        changes.append({"level": "item", "line_id": line_id, "before": before, "after": after})
    update = result.update or {}
    return {"queued": result.queued, "update_id": update.get("update_id"),
            "sequence": update.get("sequence"), "changes": changes, "reason": result.reason}


class BridgeError(Exception):
    """A request the bridge refuses, with its HTTP status and error code."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Bridge:
    """Answers the bridge's routes for one Client; serialises every change of the memory."""

    def __init__(self, client: Client, token: str | None):
        self.client = client
        self.token = token or None
        # Two workstations firing on the same order must decide "did a label change?" one
        # after the other, or both would queue: one lock serialises every change. Fires
        # that arrive while a commit is under way wait in _waiting; the next holder of
        # the lock commits them all in one transaction (a group commit: one fsync for
        # many callers, each answered only once its fire is durable).
        self._fire_lock = threading.Lock()
        self._gather = threading.Lock()
        self._waiting: list[_Slot] = []
        self._config_stamp = self._stamp()  # the file as the client read it
        self.closed = False

    def close(self) -> None:
        """Refuse changes from now on, after the one in progress (if any) is durable."""
        with self._fire_lock:
            self.closed = True

    def _open(self) -> None:
        if self.closed:
            raise BridgeError(503, "unavailable", "the bridge is shutting down; fire again")

    def authorized(self, header: str | None) -> bool:
        """Tell whether the Authorization header carries the bridge token (constant time)."""
        if self.token is None:
            return True
        scheme, _, value = (header or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode(), self.token.encode())

    def fire(self, body: dict[str, Any]) -> dict[str, Any]:
        """Fire an event on the site's memory; answer once the update (if any) is durable."""
        event, order = body.get("event"), body.get("order")
        if not isinstance(event, str) or not isinstance(order, dict):
            raise BridgeError(400, "bad_request", "give 'event' (a string) and 'order' (an object)")
        unknown = set(body) - {"event", "order", "items", "label", "notify_customer"}
        if unknown:
            raise BridgeError(400, "bad_request", f"unknown fields: {', '.join(sorted(unknown))}")
        items = body.get("items")
        if items is not None and not isinstance(items, list):
            raise BridgeError(400, "bad_request", "'items' must be a list of line ids")
        notify = body.get("notify_customer")
        if notify is not None and not isinstance(notify, bool):
            raise BridgeError(400, "bad_request", "'notify_customer' must be true or false")
        slot = _Slot((event, order, items, body.get("label"), notify))
        with self._gather:
            self._waiting.append(slot)
        with self._fire_lock:
            if not slot.done:  # no earlier holder took it along: commit all that wait
                with self._gather:
                    batch, self._waiting = self._waiting, []
                self._commit(batch)
        outcome = slot.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome is None:  # a batch's commit gives each of its slots an outcome
            raise RuntimeError("a fire was left without an outcome")
        return fire_answer(outcome)

    def _commit(self, batch: list[_Slot]) -> None:
        """Fire a batch in one durable transaction (call holding _fire_lock)."""
        try:
            self._open()
            self._reread_config()
            outcomes: list[Any] = self.client.fire_many([slot.call for slot in batch])
        except Exception as exc:  # noqa: BLE001 - every caller of the batch is told
            outcomes = [exc] * len(batch)
        for slot, outcome in zip(batch, outcomes):
            slot.outcome, slot.done = outcome, True

    def _reread_config(self) -> None:
        """Take up labels and events changed in the site's config file (call holding _fire_lock)."""
        stamp = self._stamp()
        if stamp is None or stamp == self._config_stamp:
            return
        try:
            fresh = Config.load(self.client.config.path)
        except ConfigError as exc:  # a half-edited file: keep what was read last
            log.warning("the bridge keeps the config it has: %s", exc)
            return
        self.client.config.labels, self.client.config.events = fresh.labels, fresh.events
        self.client.config.use_status_updates = fresh.use_status_updates
        self._config_stamp = stamp

    def _stamp(self) -> tuple[int, int] | None:
        """Return what identifies the config file's content now (None: no file)."""
        try:
            stat = os.stat(self.client.config.path)  # type: ignore[arg-type]
        except (OSError, TypeError):
            return None
        return stat.st_mtime_ns, stat.st_size

    def enqueue(self, body: dict[str, Any]) -> dict[str, Any]:
        """Queue a full UPDATE or ``{"order": …}``; answer once it is durable."""
        with self._fire_lock:
            self._open()
            self._reread_config()
            filled = self.client.enqueue(body)
        return {"update_id": filled["update_id"]}

    def status(self) -> dict[str, Any]:
        """Return the site's queue status (the keys of ``status --json``)."""
        self._open()
        return self.client.status()

    def order(self, number: str) -> dict[str, Any]:
        """Return what the site's memory holds for an order."""
        self._open()
        remembered = self.client.remembered(number)
        if remembered is None:
            raise BridgeError(404, "not_found", "the site's memory holds no such order")
        return remembered


class _Slot:
    """One fire waiting for a group commit, and its outcome (a FireResult or an error)."""

    __slots__ = ("call", "outcome", "done")

    def __init__(self, call: tuple[Any, ...]) -> None:
        self.call = call
        self.outcome: FireResult | BaseException | None = None
        self.done = False


class _Handler(BaseHTTPRequestHandler):
    """One request: authorise, read at most 1 MiB of JSON, route, answer JSON."""

    server: BridgeHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm on, the second waits
    # for the caller's delayed ACK (about 40 ms) on every keep-alive request.
    disable_nagle_algorithm = True
    # A workstation switched off mid-connection never closes it: without a timeout its
    # thread would wait forever. Idle keep-alive connections are closed after this long
    # (requests opens a new one when it finds a pooled connection closed).
    timeout = 600.0

    def do_GET(self) -> None:  # noqa: N802 - the name http.server looks up
        self._answer(self._get)

    def do_POST(self) -> None:  # noqa: N802
        self._answer(self._post)

    def _get(self) -> dict[str, Any]:
        path = urlsplit(self.path).path
        if path == "/v1/status":
            return self.server.bridge.status()
        if path.startswith("/v1/orders/") and len(path) > len("/v1/orders/"):
            return self.server.bridge.order(unquote(path[len("/v1/orders/"):]))
        raise BridgeError(404, "not_found", "no such route")

    def _post(self) -> dict[str, Any]:
        path = urlsplit(self.path).path
        routes = {"/v1/fire": self.server.bridge.fire, "/v1/enqueue": self.server.bridge.enqueue}
        if path not in routes:
            raise BridgeError(404, "not_found", "no such route")
        return routes[path](self._json_body())

    def _json_body(self) -> dict[str, Any]:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise BridgeError(411, "length_required", "send a Content-Length") from None
        if length > MAX_BODY or length < 0:
            self.close_connection = True  # the body is not read; the connection can't go on
            raise BridgeError(413, "too_large", "the body is over 1 MiB")
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            raise BridgeError(400, "invalid_json", "the body is not JSON") from None
        if not isinstance(body, dict):
            raise BridgeError(400, "invalid_json", "the body must be a JSON object")
        return body

    def _answer(self, route: Any) -> None:
        status, payload = 200, None
        try:
            if not self.server.bridge.authorized(self.headers.get("Authorization")):
                self.close_connection = True
                raise BridgeError(401, "unauthorized", "the bridge token is missing or wrong")
            payload = route()
        except BridgeError as exc:
            status, payload = exc.status, {"error": {"code": exc.code, "message": exc.message}}
        except (EventError, UpdateError) as exc:
            # Refusals name the field, never the value (the client's errors are built so).
            status, payload = 400, {"error": {"code": _code(exc), "message": str(exc)}}
        except SeomClientError as exc:
            log.error("bridge request failed: %s", exc)
            status, payload = 503, {"error": {"code": "unavailable", "message": str(exc)}}
        except Exception:  # noqa: BLE001 - one bad request must not stop the site's bridge
            log.exception("bridge request failed")
            status, payload = 500, {"error": {"code": "internal", "message": "internal error"}}
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        # Paths carry order numbers at most, never tokens or bodies.
        if log.isEnabledFor(logging.DEBUG):  # formatted only when shown: once per request
            log.debug("bridge %s - %s", self.address_string(), format % args)


def _code(exc: Exception) -> str:
    """Return the error code of a refused fire or enqueue."""
    if isinstance(exc, EventError):
        return "unknown_event"
    if type(exc).__name__ == "SensitiveDataError":
        return "refused_data"
    return "bad_request"


class BridgeHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server that answers the bridge's routes."""

    daemon_threads = True
    block_on_close = False
    # On Windows SO_REUSEADDR lets a second server bind a port in use; elsewhere it only
    # lets a restarted bridge bind while the killed one's connections linger in TIME_WAIT.
    allow_reuse_address = os.name != "nt"

    def __init__(self, address: tuple[str, int], bridge: Bridge):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self.bridge = bridge


def make_server(client: Client, listen: str = DEFAULT_LISTEN,
                token: str | None = None) -> BridgeHTTPServer:
    """Return a bridge server bound to ``listen``; refuse a non-loopback address without a token."""
    host, port = parse_listen(listen)
    if not token and not is_loopback(host):
        raise ConfigError("serve listens beyond this machine only with a bridge token "
                          "(seom-client config set bridge_token TOKEN)")
    return BridgeHTTPServer((host, port), Bridge(client, token))
