"""What every seom-client command shares: exit codes, output, reading files, loading the config."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import lease
from ..config import Config
from ..errors import ControllerLockedError, UpdateError

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_PAUSED = 0, 1, 2, 3


def out(text: str = "") -> None:
    """Print one line to stdout."""
    print(text)


def err(text: str) -> None:
    """Print one 'seom-client: ...' line to stderr."""
    print(f"seom-client: {text}", file=sys.stderr)


def load(args: Any) -> Config:
    """Load the config file the command line names."""
    return Config.load(args.config)


def read_json(path: str) -> Any:
    """Read a JSON file ('-' for stdin) or raise UpdateError."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text("utf-8")
        return json.loads(text)
    except OSError as exc:
        raise UpdateError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UpdateError(f"{path} is not valid JSON: {exc}") from None


def flat_errors(errors: Any, prefix: str = "") -> list[str]:
    """Flatten an errors mapping to 'path: message' strings."""
    if isinstance(errors, dict):
        lines: list[str] = []
        for key, value in errors.items():
            lines += flat_errors(value, f"{prefix}.{key}" if prefix else str(key))
        return lines
    if isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        return [f"{prefix}: {e}" if prefix else e for e in errors]
    if isinstance(errors, list):
        return [x for i, e in enumerate(errors) for x in flat_errors(e, f"{prefix}.{i}")]
    return [f"{prefix}: {errors}" if prefix else str(errors)]


def age(seconds: float | None) -> str:
    """Return a short human age: 42s, 17m, 3.5h."""
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


TAKEOVER_S = lease.LEASE_S + 2.0  # a dead controller's lease has expired by then


def take_queue(acquire: Callable[[], None]) -> None:
    """Take the queue's controller lease, waiting out the lease of a controller that died.

    Where the holder's process cannot be probed (Windows, another machine) a killed
    controller's lease only lapses after ``lease.LEASE_S``; `run` and `serve` both wait
    that long before saying another controller drains the queue.
    """
    deadline = time.monotonic() + TAKEOVER_S
    told = False
    while True:
        try:
            acquire()
            return
        except ControllerLockedError as exc:
            if time.monotonic() >= deadline:
                raise
            if not told:
                err(f"{exc}; waiting up to {TAKEOVER_S:.0f}s for its lease to lapse")
                told = True
            time.sleep(0.25)
