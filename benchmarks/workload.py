"""Realistic wire-protocol updates: two-line orders, new and changed, some resent."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
ORDER_LABELS = ("Approved", "Paid", "Packed", "Some Items Shipped", "Shipped")
ITEM_LABELS = ("Item Pending", "Item Packed", "Item Shipped")
EVENTS = ("Order Approve", "Order Payment Received", "Order Pack", "Order Change Status")
PRODUCTS = (("MUG", "Ceramic mug"), ("CAP", "Baseball cap"), ("TEE", "T-shirt, navy"),
            ("BAG", "Canvas tote bag"), ("PEN", "Fountain pen"), ("BOOK", "Cookbook"))


def ups_number(seed: int) -> str:
    """Return a UPS-shaped tracking number (1Z + 16 alphanumerics)."""
    return f"1Z{seed % 10**6:06d}A{seed % 10**9:09d}"


def order_snapshot(number: str, step: int, rng: random.Random, lines: int = 2,
                   tracking: bool = False) -> dict:
    """Return one order snapshot at *step* of its life (labels advance with it)."""
    items = []
    for line in range(1, lines + 1):
        sku, name = PRODUCTS[(int(number[-3:] or 0) + line) % len(PRODUCTS)]
        shipped = step >= 3
        items.append({"line_id": str(line), "sku": sku, "name": name, "qty_ordered": 2,
                      "qty_shipped": 2 if shipped else 0, "qty_needed": 0 if shipped else 2,
                      "status": ITEM_LABELS[min(step, len(ITEM_LABELS) - 1)]})
    serial = int("".join(c for c in number if c.isdigit()) or 0)
    return {
        "order_number": number,
        "cart_order_number": f"W-{number}",
        "status": ORDER_LABELS[min(step, len(ORDER_LABELS) - 1)],
        "bill_to": {"name": "Pat Doe", "zip": f"{10000 + serial % 89999:05d}",
                    "email": f"shopper{serial}@example.com",
                    "phone": f"+1 (212) 555-{serial % 10000:04d}"},
        "ship_to": {"name": "Pat Doe"},
        "expected_ship_date": (EPOCH + timedelta(days=3)).date().isoformat(),
        "items": items,
        "tracking": [{"number": ups_number(serial), "carrier": "UPS"}] if tracking else [],
    }


def update(number: str, step: int, rng: random.Random, lines: int = 2) -> dict:
    """Return one UPDATE for order *number* at *step*; its id is stable per (number, step)."""
    return {
        "update_id": f"{number}.{step}",
        "sequence": step,
        "occurred_at": (EPOCH + timedelta(minutes=step)).isoformat(),
        "event": EVENTS[step % len(EVENTS)],
        "order": order_snapshot(number, step, rng, lines, tracking=step >= 3),
    }


class Stream:
    """Batches of updates: ~60 % new orders, ~30 % changes to sent ones, ~10 % resends."""

    def __init__(self, prefix: str = "B", seed: int = 7):
        self.prefix, self.rng = prefix, random.Random(seed)
        self.next_number = 0
        self.steps: dict[str, int] = {}
        self.sent: list[dict] = []

    def _new(self) -> dict:
        self.next_number += 1
        number = f"{self.prefix}{self.next_number:08d}"
        self.steps[number] = 0
        return update(number, 0, self.rng)

    def one(self) -> dict:
        """Return the next update of the stream."""
        roll = self.rng.random()
        if roll < 0.1 and self.sent:
            return self.rng.choice(self.sent[-5000:])
        if roll < 0.4 and self.steps:
            number = f"{self.prefix}{self.rng.randint(1, self.next_number):08d}"
            self.steps[number] += 1
            chosen = update(number, self.steps[number], self.rng)
        else:
            chosen = self._new()
        self.sent.append(chosen)
        return chosen

    def batch(self, size: int = 500) -> list[dict]:
        """Return *size* updates."""
        return [self.one() for _ in range(size)]
