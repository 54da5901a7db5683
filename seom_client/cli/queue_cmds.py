"""`seom-client run`, `status`, `resume` and `dead ...`: the stack and its controller."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from typing import Any

from ..client import Client
from ..config import Config
from ..controller import request_resume
from ..errors import UpdateError
from .common import EXIT_FAIL, EXIT_OK, EXIT_PAUSED, age, err, flat_errors, load, out, take_queue

PROGRESS_MIN = 1000  # show a progress bar for backlogs at least this large
# Ctrl-C everywhere; SIGTERM where it exists; Ctrl-Break on a Windows console.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGBREAK")
                     if hasattr(signal, name))


class _Progress:
    """A one-line progress bar on stderr for draining a large backlog."""

    def __init__(self, total: int) -> None:
        self.total = total

    def __call__(self, summary: Any) -> None:
        done = summary.delivered + summary.dead
        width = 30
        filled = int(width * min(done, self.total) / self.total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")


def cmd_run(args: Any) -> int:
    """Run the stack controller (in the foreground, or --once to drain what can be sent now)."""
    config_path = args.config
    client = Client(Config.load(config_path))
    controller = client.controller(reload_config=lambda: Config.load(config_path))
    take_queue(controller.acquire)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()
        controller.wake.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    progress = None
    try:
        if args.once:
            backlog = client.status()["pending"]
            if backlog >= PROGRESS_MIN and sys.stderr.isatty():
                progress = _Progress(backlog)
            summary = controller.run(stop, once=True, on_progress=progress)
        else:
            out(f"draining {client.queue.path} to {client.config.endpoint} (Ctrl-C stops)")
            sys.stdout.flush()
            controller.serve(stop)
            summary = None
    finally:
        if progress:
            progress.close()
        controller.release()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    try:
        if summary is None:
            return EXIT_OK
        pending = client.status()["pending"]
    finally:
        client.close()
    if args.json:
        out(json.dumps({"delivered": summary.delivered, "dead": summary.dead,
                        "pending": pending, "stopped": summary.stopped,
                        "paused": summary.paused, "last_error": summary.last_error,
                        "detail": summary.detail}))
    else:
        out(f"sent {summary.delivered}, dead-lettered {summary.dead}, pending {pending}")
    if summary.stopped == "paused":
        err(f"paused: {summary.paused}")
        return EXIT_PAUSED
    if summary.stopped == "error":
        err(f"stopped on error: {summary.last_error}")
        return EXIT_FAIL
    return EXIT_OK


def cmd_status(args: Any) -> int:
    """Print the queue's state, for people or (--json) for programs."""
    with Client(load(args)) as client:
        status = client.status()
        info = client.controller_info()
        path, endpoint = client.queue.path, client.config.endpoint
    if args.json:
        out(json.dumps(status))
        return EXIT_OK
    if status["running"] and info:
        beat = age(time.time() - info["heartbeat_at"])
        running = f"running (pid {info['pid']} on {info['host']}, heartbeat {beat} ago)"
    else:
        running = "running" if status["running"] else "not running"
    pending = str(status["pending"])
    if status["pending"]:
        pending += f" (oldest {age(status['oldest_pending_age_s'])})"
    rows = [("controller", running), ("pending", pending),
            ("dead letters", str(status["dead"])),
            ("paused", f"yes: {status['paused']}" if status["paused"] else "no"),
            ("last success", status["last_success_at"] or "never"),
            ("last error", status["last_error"] or "none"),
            ("queue", str(path)), ("destination", endpoint)]
    for name, value in rows:
        out(f"{name + ':':<14} {value}")
    return EXIT_OK


def cmd_resume(args: Any) -> int:
    """Ask a paused controller to re-read the config and try again now."""
    with Client(load(args)) as client:
        request_resume(client.queue)
        status = client.status()
    if not status["running"]:
        out("no controller is running; 'seom-client run' will try again at once")
    elif status["paused"]:
        out("asked the controller to re-read the config and try again "
            f"(paused: {status['paused']})")
    else:
        out("asked the controller to try again now (it was not paused)")
    return EXIT_OK


def cmd_dead_list(args: Any) -> int:
    """List dead letters with their order numbers and errors."""
    with Client(load(args)) as client:
        dead = client.dead_letters()
    if args.json:
        out(json.dumps(dead))
        return EXIT_OK
    if not dead:
        out("no dead letters")
    for record in dead:
        out(f"#{record['id']}  order {record['order_number']}  update {record['update_id']}")
        for line in flat_errors(record["errors"] or {}):
            out(f"    {line}")
    return EXIT_OK


def _dead_ids(args: Any) -> list[int] | None:
    """Return the record ids named on the command line, or None for all dead letters.

    SPEC §7 writes `dead retry` / `dead drop` bare: no ids means every dead
    letter, exactly as --all does.
    """
    if args.all and args.ids:
        raise UpdateError("give record ids or --all, not both")
    return args.ids or None


def _dead_exit(count: int, ids: list[int] | None) -> int:
    """Exit 0, except when the ids given named no dead letter at all."""
    return EXIT_OK if count or ids is None else EXIT_FAIL


def cmd_dead_retry(args: Any) -> int:
    """Queue dead letters again (the ids given, or all of them)."""
    ids = _dead_ids(args)
    with Client(load(args)) as client:
        count = client.retry_dead(ids)
    out(f"requeued {count} dead letter(s)")
    return _dead_exit(count, ids)


def cmd_dead_drop(args: Any) -> int:
    """Delete dead letters for good (the ids given, or all of them)."""
    ids = _dead_ids(args)
    with Client(load(args)) as client:
        count = client.drop_dead(ids)
    out(f"dropped {count} dead letter(s)")
    return _dead_exit(count, ids)


def add_parsers(sub: Any) -> None:
    """Add the run, status, resume and dead commands."""
    p = sub.add_parser("run", help="run the stack controller")
    p.add_argument("--once", action="store_true", help="drain what can be sent now, then exit")
    p.add_argument("--json", action="store_true",
                   help="with --once: print the outcome as JSON, raw error detail included")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("status", help="show the queue's state")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("resume", help="make a paused controller re-read the config and retry now")
    p.set_defaults(func=cmd_resume)

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
