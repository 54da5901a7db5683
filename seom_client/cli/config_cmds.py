"""`seom-client init` and `config show|set`: writing and changing the config file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..config import Config
from ..controller import request_resume
from ..errors import ConfigError
from ..queue import Queue
from . import bridge_cmds
from .common import EXIT_OK, load, out


def cmd_init(args: Any) -> int:
    """Write a config with the default labels and event table."""
    if args.bridge:
        return bridge_cmds.cmd_init_workstation(args)
    if not (args.url and args.api_key):
        raise ConfigError("init needs --url and --api-key (or, on a workstation, "
                          "--bridge URL --token TOKEN)")
    path = Path(args.config)
    if path.exists() and not args.force:
        raise ConfigError(f"{path} already exists (use --force to overwrite it, or "
                          "'seom-client config set' to change one setting)")
    config = Config.new(args.url, args.api_key, signing_secret=args.signing_secret,
                        generic_cart=args.generic_cart, path=path)
    if args.queue:
        config.queue_path = args.queue
    config.save(path)
    out(f"wrote {path}")
    out(f"updates go to {config.endpoint}")
    out(f"queue file {config.resolved_queue_path()}")
    return EXIT_OK


def cmd_config_show(args: Any) -> int:
    """Print the settings with secrets masked."""
    config = load(args)
    shown = config.shown()
    if args.json:
        out(json.dumps(shown))
        return EXIT_OK
    shown["endpoint"] = config.endpoint
    shown["queue file"] = str(config.resolved_queue_path())
    shown["config file"] = str(config.path)
    for key, value in shown.items():
        text = "-" if value is None else ("on" if value is True else
                                         "off" if value is False else str(value))
        out(f"{key + ':':<20} {text}")
    return EXIT_OK


def cmd_config_set(args: Any) -> int:
    """Change one setting, validated, keeping labels and events; a paused controller resumes."""
    config = load(args).with_value(args.key, args.value)
    config.save()
    shown = config.shown()[args.key]
    out(f"{args.key} = {'-' if shown is None else json.dumps(shown, ensure_ascii=False)}")
    if config.resolved_queue_path().exists():  # no queue yet: no controller to tell
        queue = Queue(config.resolved_queue_path())
        try:
            request_resume(queue)  # a paused controller re-reads the file and tries again now
        finally:
            queue.close()
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    """Add the init and config commands."""
    p = sub.add_parser("init", help="write a config with the default labels and events")
    p.add_argument("--url", help="OSS base URL, or a generic cart's endpoint")
    p.add_argument("--api-key")
    p.add_argument("--signing-secret", default=None)
    p.add_argument("--generic-cart", action="store_true")
    p.add_argument("--queue", default=None, metavar="PATH",
                   help="queue file (default: beside the config)")
    p.add_argument("--force", action="store_true", help="overwrite an existing config")
    p.add_argument("--bridge", default=None, metavar="URL",
                   help="a workstation: send to the site's bridge (seom-client serve) instead")
    p.add_argument("--token", default=None, help="with --bridge: the site's bridge_token")
    p.set_defaults(func=cmd_init)

    config = sub.add_parser("config", help="show or change settings").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    p = config.add_parser("show", help="print the settings (secrets masked)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_config_show)
    p = config.add_parser("set", help="change one setting (labels and events are kept)")
    p.add_argument("key", metavar="KEY",
                   help="url, api_key, signing_secret, use_status_updates, memory_days, "
                        "bridge_token, generic_cart, queue_path or a tunable")
    p.add_argument("value", metavar="VALUE", help="the new value ('' clears an optional one)")
    p.set_defaults(func=cmd_config_set)
