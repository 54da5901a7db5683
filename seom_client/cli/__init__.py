"""The seom-client command line (SPEC §7): the parser and main(); each concern has a module."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import requests

from .._version import __version__
from ..config import default_config_path
from ..errors import ConfigError, EventError, SeomClientError, UpdateError
from ..sender import describe_network_error
from . import bridge_cmds, check, config_cmds, events_cmds, queue_cmds, table_cmds
from .common import EXIT_FAIL, EXIT_USAGE, err

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """Return the argparse parser for seom-client."""
    parser = argparse.ArgumentParser(prog="seom-client",
                                     description="Queue and send order status updates.")
    parser.add_argument("--config", default=None, metavar="PATH",
                        help="config file (default $SEOM_CLIENT_CONFIG, else ./seom-client.json "
                             "if present, else the per-user one)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more")
    parser.add_argument("--version", action="version", version=f"seom-client {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (config_cmds, check, table_cmds, events_cmds, queue_cmds, bridge_cmds):
        module.add_parsers(sub)
    return parser


def _quiet_stdout() -> None:
    """Point stdout at the null device so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the seom-client command line; return the exit code."""
    args = build_parser().parse_args(argv)
    args.config = Path(args.config) if args.config else default_config_path()
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        # A workstation's config (init --bridge) sends to the site's bridge instead.
        code = (bridge_cmds.workstation_command(args) or args.func)(args)
        sys.stdout.flush()  # inside the try: a reader that went away is met here
        return code
    except BrokenPipeError:
        # `seom-client events list | head -1`: the reader has what it wanted.
        _quiet_stdout()
        return EXIT_FAIL
    except (ConfigError, EventError, UpdateError) as exc:
        err(f"error: {exc}")
        return EXIT_USAGE
    except SeomClientError as exc:
        err(f"error: {exc}")
        return EXIT_FAIL
    except requests.RequestException as exc:
        err(f"error: {describe_network_error(exc)}")
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130
