"""`seom-client events ...` and `labels ...`: the status-event table and the label list."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import EventError
from ..events import (
    CHANGE_STATUS_EVENTS,
    STANDARD_EVENTS,
    EventRule,
    check_table,
    load_defaults,
    validate_label,
)
from .common import EXIT_FAIL, EXIT_OK, load, out


def cmd_events_list(args: Any) -> int:
    """Print the event table."""
    config = load(args)
    out(f"status updates: {'on' if config.use_status_updates else 'off'}")
    out(f"{'EVENT':<29} {'NOTIFY':<6} {'ORDER STATUS':<24} ITEM STATUS")
    for name in STANDARD_EVENTS:
        rule = config.rule(name)
        if name in CHANGE_STATUS_EVENTS:
            order = "(label the user sets)" if name == "Order Change Status" else "-"
            item = "(label the user sets)" if name == "Item Change Status" else "-"
        else:
            order, item = rule.order_status or "-", rule.item_status or "-"
        out(f"{name:<29} {'yes' if rule.notify else 'no':<6} {order:<24} {item}")
    return EXIT_OK


def cmd_events_set(args: Any) -> int:
    """Change one row of the event table."""
    config = load(args)
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
    out(f"{args.event}: order status {order or '-'}, item status {item or '-'}, "
        f"notify {'yes' if notify else 'no'}")
    return EXIT_OK


def cmd_events_load_defaults(args: Any) -> int:
    """Replace the event table with the defaults (adding the default labels)."""
    config = load(args)
    labels, events = load_defaults()
    config.events = events
    config.labels += [label for label in labels if label not in config.labels]
    config.save()
    out(f"loaded the default table for {len(events)} events")
    return EXIT_OK


def cmd_events_check(args: Any) -> int:
    """Warn about table problems such as two notifying events setting the same label."""
    config = load(args)
    warnings = check_table(config.labels, config.events)
    if not config.use_status_updates:
        warnings.insert(0, "use_status_updates is off: no event changes anything")
    for warning in warnings:
        out(f"warning: {warning}")
    if not warnings:
        out("ok: no problems found")
    return EXIT_FAIL if warnings else EXIT_OK


def cmd_labels_list(args: Any) -> int:
    """Print the label list."""
    for label in load(args).labels:
        out(label)
    return EXIT_OK


def cmd_labels_add(args: Any) -> int:
    """Add labels to the list."""
    config = load(args)
    for label in args.labels:
        validate_label(label)
        if label not in config.labels:
            config.labels.append(label)
    config.save()
    return EXIT_OK


def cmd_labels_remove(args: Any) -> int:
    """Remove labels from the list (refused while an event still sets them)."""
    config = load(args)
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


def add_parsers(sub: Any) -> None:
    """Add the events and labels commands."""
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
    events.add_parser("check", help="warn about clashing labels").set_defaults(
        func=cmd_events_check)

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
