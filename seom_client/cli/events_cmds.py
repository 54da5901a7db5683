"""`seom-client fire`, `enqueue` and `orders show`: handing updates to the stack."""

from __future__ import annotations

import json
from typing import Any

from ..client import Client
from .common import EXIT_FAIL, EXIT_OK, load, out, read_json


def cmd_fire(args: Any) -> int:
    """Apply an event to an order snapshot file and say whether an update was queued."""
    order = read_json(args.order)
    if isinstance(order, dict) and "order" in order and "order_number" not in order:
        order = order["order"]
    items = [i.strip() for i in args.items.split(",") if i.strip()] if args.items else None
    notify = True if args.notify_customer else None
    with Client(load(args)) as client:  # an unknown event or label is refused there: exit 2
        result = client.fire(args.event, order, items, label=args.label, notify_customer=notify)
    number = result.order.get("order_number") if isinstance(result.order, dict) else None
    if result.order_status:
        before, after = result.order_status
        out(f"order {number}: {before or '-'} -> {after}")
    for line_id, (before, after) in result.items.items():
        out(f"line {line_id}: {before or '-'} -> {after}")
    if result.queued and result.update:
        out(f"queued update {result.update['update_id']} (sequence {result.update['sequence']})")
    else:
        out(f"no update queued: {result.reason}")
    return EXIT_OK


def cmd_enqueue(args: Any) -> int:
    """Queue a raw update (or {"order": ...}) from a file."""
    update = read_json(args.file)
    with Client(load(args)) as client:
        filled = client.enqueue(update)
    out(f"queued update {filled['update_id']} (sequence {filled['sequence']})")
    return EXIT_OK


def cmd_orders_show(args: Any) -> int:
    """Print what the client remembers for one order (exit 1 when it holds nothing)."""
    with Client(load(args)) as client:
        held = client.remembered(args.order_number)
    return show_remembered(args, held, f"nothing remembered for order {args.order_number}")


def show_remembered(args: Any, held: dict[str, Any] | None, missing: str) -> int:
    """Print a remembered order (this client's or the site's); exit 1 when there is none."""
    if held is None:
        out(missing)
        return EXIT_FAIL
    if args.json:
        out(json.dumps(held))
        return EXIT_OK
    out(f"order {args.order_number}: {held.get('status') or '-'}")
    for line_id, label in (held.get("items") or {}).items():
        out(f"line {line_id}: {label or '-'}")
    last = held.get("last_update") or {}
    if last:
        out(f"last update queued: {last.get('update_id')} (sequence {last.get('sequence')})")
    out(f"last fired at: {held.get('last_fired_at')}")
    out(f"forgotten after: {held.get('forgotten_after')} unless fired again")
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    """Add the fire, enqueue and orders commands."""
    p = sub.add_parser("fire", help="apply an event to an order snapshot")
    p.add_argument("event")
    p.add_argument("--order", required=True, metavar="FILE",
                   help="order snapshot JSON ('-': stdin)")
    p.add_argument("--items", default=None, metavar="IDS", help="comma-separated line ids")
    p.add_argument("--label", default=None,
                   help="new label for the Change Status events (must be in the label list)")
    p.add_argument("--notify-customer", action="store_true",
                   help="ask the OSS to email the shopper about this update")
    p.set_defaults(func=cmd_fire)

    p = sub.add_parser("enqueue", help="queue a raw update")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=cmd_enqueue)

    orders = sub.add_parser("orders", help="what the client remembers").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    p = orders.add_parser("show", help="the labels the client holds for an order")
    p.add_argument("order_number", metavar="ORDER_NUMBER")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_orders_show)
