"""`seom-client serve` (the site's stack controller and bridge) and a workstation's commands.

A workstation's config (``init --bridge URL --token TOKEN``) keeps no queue: its `fire`,
`enqueue`, `status`, `orders show` and `check` go to the site's bridge, and the commands
that need a queue or the site's labels and events say where they run instead.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..bridge import DEFAULT_LISTEN, make_server
from ..client import Client
from ..config import Config
from ..errors import ConfigError, SeomClientError
from ..remote import RemoteSite
from .common import EXIT_OK, EXIT_USAGE, err, load, out, read_json, take_queue
from .events_cmds import show_remembered
from .queue_cmds import STOP_SIGNALS


def cmd_serve(args: Any) -> int:
    """Run the stack controller and the bridge until Ctrl-C or SIGTERM."""
    config = load(args)
    if config.workstation:
        return _elsewhere(config, "serve")
    with Client(config) as client:
        try:
            server = make_server(client, args.listen, config.bridge_token)
        except OSError as exc:
            raise SeomClientError(f"cannot listen on {args.listen}: "
                                  f"{exc.strerror or exc}") from None
        try:
            take_queue(client.start)
            thread = threading.Thread(target=server.serve_forever, name="seom-client-bridge",
                                      kwargs={"poll_interval": 0.2}, daemon=True)
            thread.start()
            host, port = str(server.server_address[0]), int(server.server_address[1])
            host = f"[{host}]" if ":" in host else host  # an IPv6 address
            out(f"serving the site's queue {client.queue.path} on http://{host}:{port}, "
                f"sending to {config.endpoint} (Ctrl-C stops)")
            sys.stdout.flush()  # a service's log shows it now, not at exit
            _wait_for_stop()
            server.shutdown()
        finally:
            server.bridge.close()  # a fire in progress finishes and is answered first
            server.server_close()
    return EXIT_OK


def _wait_for_stop() -> None:
    """Block until Ctrl-C, SIGTERM or (on Windows) Ctrl-Break."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}
    try:
        while not stop.wait(0.5):  # short waits: Windows delivers Ctrl-C between them
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# -- a workstation's commands ------------------------------------------------------------------

def _remote(config: Config) -> RemoteSite:
    return RemoteSite(config.bridge_url or "", config.bridge_token,
                      timeout_s=config.setting("timeout_s"))


def _elsewhere(config: Config, command: str) -> int:
    err(f"this is a workstation's config: its events go to the site's bridge at "
        f"{config.bridge_url} and it keeps no queue; run 'seom-client {command}' with the "
        "site's config on the machine that runs 'seom-client serve'")
    return EXIT_USAGE


def cmd_init_workstation(args: Any) -> int:
    """Write a workstation's config: its events go to the site's bridge."""
    path = Path(args.config)
    if path.exists() and not args.force:
        raise ConfigError(f"{path} already exists (use --force to overwrite it)")
    if args.url or args.api_key or args.signing_secret or args.queue or args.generic_cart:
        raise ConfigError("--bridge makes a workstation's config: the URL, key and queue "
                          "belong to the machine that runs 'seom-client serve'")
    config = Config.new_workstation(args.bridge, args.token, path=path)
    config.save(path)
    out(f"wrote {path}")
    out(f"fire, enqueue and status go to the site's bridge at {config.bridge_url}; "
        "this workstation keeps no queue")
    return EXIT_OK


def _fire(args: Any) -> int:
    order = read_json(args.order)
    if isinstance(order, dict) and "order" in order and "order_number" not in order:
        order = order["order"]
    items = [i.strip() for i in args.items.split(",") if i.strip()] if args.items else None
    answer = _remote(load(args)).fire(args.event, order, items, label=args.label,
                                      notify_customer=True if args.notify_customer else None)
    for change in answer.get("changes", []):
        where = (f"order {order.get('order_number')}" if change["level"] == "order"
                 else f"line {change.get('line_id')}")
        out(f"{where}: {change.get('before') or '-'} -> {change.get('after')}")
    if answer.get("queued"):
        out(f"queued update {answer['update_id']} (sequence {answer.get('sequence')}) "
            "at the site's bridge")
    else:
        out(f"no update queued: {answer.get('reason') or 'no label changed'}")
    return EXIT_OK


def _enqueue(args: Any) -> int:
    answer = _remote(load(args)).enqueue(read_json(args.file))
    out(f"queued update {answer['update_id']} at the site's bridge")
    return EXIT_OK


def _status(args: Any) -> int:
    config = load(args)
    status = _remote(config).status()
    if getattr(args, "json", False):
        out(json.dumps(status))
        return EXIT_OK
    rows = [("site bridge", config.bridge_url),
            ("controller", "running" if status.get("running") else "not running"),
            ("pending", status.get("pending")), ("dead letters", status.get("dead")),
            ("paused", f"yes: {status['paused']}" if status.get("paused") else "no"),
            ("last success", status.get("last_success_at") or "never"),
            ("last error", status.get("last_error") or "none")]
    for name, value in rows:
        out(f"{name + ':':<14} {value}")
    return EXIT_OK


def _check(args: Any) -> int:
    config = load(args)
    status = _remote(config).status()  # unreachable or a wrong token: one sentence, exit 1
    out(f"ok: the site's bridge at {config.bridge_url} answers "
        f"(controller {'running' if status.get('running') else 'not running'})")
    return EXIT_OK


def _orders_show(args: Any) -> int:
    held = _remote(load(args)).remembered(args.order_number)
    return show_remembered(args, held, f"the site holds nothing for order {args.order_number}")


def _config_show(args: Any) -> int:
    config = load(args)
    shown = {k: v for k, v in config.shown().items() if k not in ("labels", "events")}
    if args.json:
        out(json.dumps(shown))
        return EXIT_OK
    shown.update({"queue file": "none (the site's bridge keeps the queue)",
                  "config file": str(config.path)})
    for key, value in shown.items():
        out(f"{key + ':':<20} {'-' if value is None else value}")
    return EXIT_OK


def _config_set(args: Any) -> int:
    config = load(args).with_value(args.key, args.value)
    config.save()
    shown = config.shown()[args.key]
    out(f"{args.key} = {'-' if shown is None else json.dumps(shown)}")
    return EXIT_OK


WORKSTATION: dict[tuple[str, str | None], Callable[[Any], int]] = {
    ("fire", None): _fire, ("enqueue", None): _enqueue, ("status", None): _status,
    ("check", None): _check, ("orders", "show"): _orders_show,
    ("config", "show"): _config_show, ("config", "set"): _config_set,
}


def workstation_command(args: Any) -> Callable[[Any], int] | None:
    """Return what runs a command on a workstation's config instead (None: not one)."""
    if args.command in ("init", "serve"):
        return None
    try:
        config = Config.load(args.config)
    except ConfigError:
        return None  # the command itself says what is wrong with the file
    if not config.workstation:
        return None
    found = WORKSTATION.get((args.command, getattr(args, "action", None)))
    return found or (lambda _args: _elsewhere(config, args.command))


def add_parsers(sub: Any) -> None:
    """Add the serve command."""
    p = sub.add_parser("serve", help="run the site's stack controller and HTTP bridge")
    p.add_argument("--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT",
                   help=f"where the bridge listens (default {DEFAULT_LISTEN}; beyond this "
                        "machine only with a bridge_token)")
    p.set_defaults(func=cmd_serve)
