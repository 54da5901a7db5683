"""The seom-client command line (SPEC §7)."""

import argparse
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from . import __version__
from .client import Client
from .config import Config, default_config_path
from .errors import ConfigError, EventError, SeomClientError, UpdateError
from .events import CHANGE_STATUS_EVENTS, STANDARD_EVENTS, EventRule, check_table, load_defaults
from .events import validate_label

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_PAUSED = 0, 1, 2, 3
PROGRESS_MIN = 1000  # show a progress bar for backlogs at least this large


def _out(text=""):
    print(text)


def _read_json(path):
    """Read a JSON file ('-' for stdin) or raise UpdateError."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text("utf-8")
        return json.loads(text)
    except OSError as exc:
        raise UpdateError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UpdateError(f"{path} is not valid JSON: {exc}") from None


def _flat_errors(errors, prefix=""):
    """Flatten an errors mapping to 'path: message' strings."""
    if isinstance(errors, dict):
        out = []
        for key, value in errors.items():
            out += _flat_errors(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        return [f"{prefix}: {e}" if prefix else e for e in errors]
    if isinstance(errors, list):
        return [x for i, e in enumerate(errors) for x in _flat_errors(e, f"{prefix}.{i}")]
    return [f"{prefix}: {errors}" if prefix else str(errors)]


# -- init, events, labels ---------------------------------------------------------------------

def cmd_init(args):
    """Write a config with the default labels and event table."""
    path = Path(args.config)
    if path.exists() and not args.force:
        raise ConfigError(f"{path} already exists (use --force to overwrite it)")
    config = Config.new(args.url, args.api_key, signing_secret=args.signing_secret,
                        generic_cart=args.generic_cart, path=path)
    if args.queue:
        config.queue_path = args.queue
    config.save(path)
    _out(f"wrote {path}")
    _out(f"updates go to {config.endpoint}")
    _out(f"queue file {config.resolved_queue_path()}")
    return EXIT_OK


def cmd_events_list(args):
    """Print the event table."""
    config = Config.load(args.config)
    _out(f"status updates: {'on' if config.use_status_updates else 'off'}")
    _out(f"{'EVENT':<29} {'NOTIFY':<6} {'ORDER STATUS':<24} ITEM STATUS")
    for name in STANDARD_EVENTS:
        rule = config.rule(name)
        if name in CHANGE_STATUS_EVENTS:
            order, item = "(label the user sets)", "(label the user sets)"
            order = order if name == "Order Change Status" else "-"
            item = item if name == "Item Change Status" else "-"
        else:
            order, item = rule.order_status or "-", rule.item_status or "-"
        _out(f"{name:<29} {'yes' if rule.notify else 'no':<6} {order:<24} {item}")
    return EXIT_OK


def cmd_events_set(args):
    """Change one row of the event table."""
    config = Config.load(args.config)
    if args.event not in STANDARD_EVENTS:
        raise EventError(f"unknown event {args.event!r} (see 'seom-client events list')")
    rule = config.rule(args.event)
    order = rule.order_status if args.order_status is None else args.order_status
    item = rule.item_status if args.item_status is None else args.item_status
    for value in (order, item):
        if value:
            validate_label(value)
            if value not in config.labels:
                raise EventError(f"label {value!r} is not in the label list "
                                 f"(add it with 'seom-client labels add')")
    notify = rule.notify if args.notify is None else args.notify
    config.events[args.event] = EventRule(order, item, notify)
    config.save()
    _out(f"{args.event}: order status {order or '-'}, item status {item or '-'}, "
         f"notify {'yes' if notify else 'no'}")
    return EXIT_OK


def cmd_events_load_defaults(args):
    """Replace the event table with the defaults (adding the default labels)."""
    config = Config.load(args.config)
    labels, events = load_defaults()
    config.events = events
    config.labels += [label for label in labels if label not in config.labels]
    config.save()
    _out(f"loaded the default table for {len(events)} events")
    return EXIT_OK


def cmd_events_check(args):
    """Warn about table problems such as two notifying events setting the same label."""
    config = Config.load(args.config)
    warnings = check_table(config.labels, config.events)
    if not config.use_status_updates:
        warnings.insert(0, "use_status_updates is off: no event changes anything")
    for warning in warnings:
        _out(f"warning: {warning}")
    if not warnings:
        _out("ok: no problems found")
    return EXIT_FAIL if warnings else EXIT_OK


def cmd_labels_list(args):
    """Print the label list."""
    for label in Config.load(args.config).labels:
        _out(label)
    return EXIT_OK


def cmd_labels_add(args):
    """Add labels to the list."""
    config = Config.load(args.config)
    for label in args.labels:
        validate_label(label)
        if label not in config.labels:
            config.labels.append(label)
    config.save()
    return EXIT_OK


def cmd_labels_remove(args):
    """Remove labels from the list (refused while an event still sets them)."""
    config = Config.load(args.config)
    for label in args.labels:
        if label not in config.labels:
            raise EventError(f"label {label!r} is not in the list")
        users = [n for n, r in config.events.items() if label in (r.order_status, r.item_status)]
        if users and not args.force:
            raise EventError(f"label {label!r} is used by {', '.join(users)} "
                             "(change those events first, or use --force)")
        config.labels.remove(label)
    config.save()
    return EXIT_OK


# -- fire, enqueue ----------------------------------------------------------------------------

def cmd_fire(args):
    """Apply an event to an order snapshot file and say whether an update was queued."""
    order = _read_json(args.order)
    if isinstance(order, dict) and "order" in order and "order_number" not in order:
        order = order["order"]
    items = [i.strip() for i in args.items.split(",") if i.strip()] if args.items else None
    with Client(Config.load(args.config)) as client:
        result = client.fire(args.event, order, items, label=args.label)
    if result.order_status:
        old, new = result.order_status
        _out(f"order {order.get('order_number')}: {old or '-'} -> {new}")
    for line_id, (old, new) in result.items.items():
        _out(f"line {line_id}: {old or '-'} -> {new}")
    if result.queued:
        _out(f"queued update {result.update['update_id']} (sequence {result.update['sequence']})")
    else:
        _out(f"no update queued: {result.reason}")
    return EXIT_OK


def cmd_enqueue(args):
    """Queue a raw update (or {"order": ...}) from a file."""
    update = _read_json(args.file)
    with Client(Config.load(args.config)) as client:
        filled = client.enqueue(update)
    _out(f"queued update {filled['update_id']} (sequence {filled['sequence']})")
    return EXIT_OK


# -- run --------------------------------------------------------------------------------------

class _Progress:
    """A one-line progress bar on stderr for draining a large backlog."""

    def __init__(self, total):
        self.total = total

    def __call__(self, summary):
        done = summary.delivered + summary.dead
        width = 30
        filled = int(width * min(done, self.total) / self.total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}")
        sys.stderr.flush()

    def close(self):
        sys.stderr.write("\n")


def cmd_run(args):
    """Run the stack controller (in the foreground, or --once to drain what can be sent now)."""
    config_path = args.config
    client = Client(Config.load(config_path))
    controller = client.controller(reload_config=lambda: Config.load(config_path))
    controller.acquire()
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
        controller.wake.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    progress = None
    try:
        if args.once:
            backlog = client.status()["pending"]
            if backlog >= PROGRESS_MIN and sys.stderr.isatty():
                progress = _Progress(backlog)
            summary = controller.run(stop, once=True, on_progress=progress)
        else:
            _out(f"draining {client.queue.path} to {client.config.endpoint} (Ctrl-C stops)")
            sys.stdout.flush()
            controller.serve(stop)
            summary = None
    finally:
        if progress:
            progress.close()
        controller.release()
        client.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if summary is None:
        return EXIT_OK
    _out(f"sent {summary.delivered}, dead-lettered {summary.dead}, "
         f"pending {client.status()['pending']}")
    if summary.stopped == "paused":
        print(f"seom-client: paused: {summary.paused}", file=sys.stderr)
        return EXIT_PAUSED
    if summary.stopped == "error":
        print(f"seom-client: stopped on error: {summary.last_error}", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


# -- status, dead -----------------------------------------------------------------------------

def _age(seconds):
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def cmd_status(args):
    """Print the queue's state, for people or (--json) for programs."""
    with Client(Config.load(args.config)) as client:
        status = client.status()
        info = client.controller_info()
        path, endpoint = client.queue.path, client.config.endpoint
    if args.json:
        _out(json.dumps(status))
        return EXIT_OK
    if status["running"] and info:
        beat = _age(time.time() - info["heartbeat_at"])
        running = f"running (pid {info['pid']} on {info['host']}, heartbeat {beat} ago)"
    else:
        running = "running" if status["running"] else "not running"
    pending = str(status["pending"])
    if status["pending"]:
        pending += f" (oldest {_age(status['oldest_pending_age_s'])})"
    rows = [("controller", running), ("pending", pending),
            ("dead letters", str(status["dead"])),
            ("paused", f"yes: {status['paused']}" if status["paused"] else "no"),
            ("last success", status["last_success_at"] or "never"),
            ("last error", status["last_error"] or "none"),
            ("queue", str(path)), ("destination", endpoint)]
    for name, value in rows:
        _out(f"{name + ':':<14} {value}")
    return EXIT_OK


def cmd_dead_list(args):
    """List dead letters with their order numbers and errors."""
    with Client(Config.load(args.config)) as client:
        dead = client.dead_letters()
    if args.json:
        _out(json.dumps(dead))
        return EXIT_OK
    if not dead:
        _out("no dead letters")
    for record in dead:
        _out(f"#{record['id']}  order {record['order_number']}  update {record['update_id']}")
        for line in _flat_errors(record["errors"] or {}):
            _out(f"    {line}")
    return EXIT_OK


def _dead_ids(args):
    """Return the record ids named on the command line, or None for all dead letters.

    SPEC §7 writes `dead retry` / `dead drop` bare: no ids means every dead
    letter, exactly as --all does.
    """
    if args.all and args.ids:
        raise UpdateError("give record ids or --all, not both")
    return args.ids or None


def _dead_exit(count, ids):
    """Exit 0, except when the ids given named no dead letter at all."""
    return EXIT_OK if count or ids is None else EXIT_FAIL


def cmd_dead_retry(args):
    """Queue dead letters again (the ids given, or all of them)."""
    ids = _dead_ids(args)
    with Client(Config.load(args.config)) as client:
        count = client.retry_dead(ids)
    _out(f"requeued {count} dead letter(s)")
    return _dead_exit(count, ids)


def cmd_dead_drop(args):
    """Delete dead letters for good (the ids given, or all of them)."""
    ids = _dead_ids(args)
    with Client(Config.load(args.config)) as client:
        count = client.drop_dead(ids)
    _out(f"dropped {count} dead letter(s)")
    return _dead_exit(count, ids)


# -- parser -----------------------------------------------------------------------------------

def build_parser():
    """Return the argparse parser for seom-client."""
    parser = argparse.ArgumentParser(prog="seom-client",
                                     description="Queue and send order status updates.")
    parser.add_argument("--config", default=None, metavar="PATH",
                        help="config file (default $SEOM_CLIENT_CONFIG or ./seom-client.json)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more")
    parser.add_argument("--version", action="version", version=f"seom-client {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="write a config with the default labels and events")
    p.add_argument("--url", required=True, help="OSS base URL, or a generic cart's endpoint")
    p.add_argument("--api-key", required=True)
    p.add_argument("--signing-secret", default=None)
    p.add_argument("--generic-cart", action="store_true")
    p.add_argument("--queue", default=None, metavar="PATH", help="queue file (default: beside the config)")
    p.add_argument("--force", action="store_true", help="overwrite an existing config")
    p.set_defaults(func=cmd_init)

    events = sub.add_parser("events", help="the status-event table").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    events.add_parser("list", help="show the table").set_defaults(func=cmd_events_list)
    p = events.add_parser("set", help="change one event")
    p.add_argument("event")
    p.add_argument("--order-status", default=None, metavar="L")
    p.add_argument("--item-status", default=None, metavar="L")
    p.add_argument("--notify", action=argparse.BooleanOptionalAction, default=None)
    p.set_defaults(func=cmd_events_set)
    events.add_parser("load-defaults", help="restore the default table").set_defaults(
        func=cmd_events_load_defaults)
    events.add_parser("check", help="warn about clashing labels").set_defaults(func=cmd_events_check)

    labels = sub.add_parser("labels", help="the status labels").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    labels.add_parser("list").set_defaults(func=cmd_labels_list)
    p = labels.add_parser("add")
    p.add_argument("labels", nargs="+", metavar="LABEL")
    p.set_defaults(func=cmd_labels_add)
    p = labels.add_parser("remove")
    p.add_argument("labels", nargs="+", metavar="LABEL")
    p.add_argument("--force", action="store_true", help="remove even if an event uses it")
    p.set_defaults(func=cmd_labels_remove)

    p = sub.add_parser("fire", help="apply an event to an order snapshot")
    p.add_argument("event")
    p.add_argument("--order", required=True, metavar="FILE", help="order snapshot JSON ('-': stdin)")
    p.add_argument("--items", default=None, metavar="IDS", help="comma-separated line ids")
    p.add_argument("--label", default=None, help="new label for the Change Status events")
    p.set_defaults(func=cmd_fire)

    p = sub.add_parser("enqueue", help="queue a raw update")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=cmd_enqueue)

    p = sub.add_parser("run", help="run the stack controller")
    p.add_argument("--once", action="store_true", help="drain what can be sent now, then exit")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("status", help="show the queue's state")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    dead = sub.add_parser("dead", help="dead letters").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    p = dead.add_parser("list")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_dead_list)
    for name, func in (("retry", cmd_dead_retry), ("drop", cmd_dead_drop)):
        p = dead.add_parser(name, help=f"{name} dead letters (no ids: all of them)")
        p.add_argument("ids", nargs="*", type=int, metavar="ID",
                       help="record ids from 'dead list' (default: all)")
        p.add_argument("--all", action="store_true", help="all dead letters (the default)")
        p.set_defaults(func=func)
    return parser


def main(argv=None):
    """Run the seom-client command line; return the exit code."""
    args = build_parser().parse_args(argv)
    args.config = Path(args.config) if args.config else default_config_path()
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (ConfigError, EventError, UpdateError) as exc:
        print(f"seom-client: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SeomClientError as exc:
        print(f"seom-client: error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130
