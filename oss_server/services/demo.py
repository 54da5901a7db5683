"""Seed a demo merchant and store with orders in several states."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Store
from . import accounts
from .keys import create_api_key
from .updates import apply_updates

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password-123"
DEMO_SLUG = "demo"
DEMO_ZIP = "90210"


def _update(number, status, steps_ago, seq, items, tracking=(), cart=None, ship=None):
    when = datetime.now(timezone.utc) - timedelta(hours=steps_ago)
    return {
        "update_id": f"demo-{number}-{seq}",
        "sequence": seq,
        "occurred_at": when.isoformat(),
        "event": "Order Import" if seq == 1 else "Order Change Status",
        "order": {
            "order_number": number,
            "cart_order_number": cart,
            "status": status,
            "bill_to": {"name": "Alex Shopper", "zip": DEMO_ZIP,
                        "email": "alex@example.com", "phone": "+1 (310) 555-0142"},
            "ship_to": {"name": "Alex Shopper"},
            "actual_ship_date": ship,
            "items": items,
            "tracking": list(tracking),
        },
    }


def _item(line, sku, name, ordered, shipped, status):
    return {"line_id": line, "sku": sku, "name": name, "qty_ordered": ordered,
            "qty_shipped": shipped, "qty_needed": ordered - shipped, "status": status}


def demo_updates() -> list[dict]:
    """Return the demo orders' update history, oldest first per order."""
    today = date.today().isoformat()
    pending = [_item("1", "MUG-01", "Stoneware mug", 2, 0, "Item Pending")]
    shipped = [_item("1", "TEE-M", "Cotton tee, M", 1, 1, "Item Shipped"),
               _item("2", "CAP-RED", "Red cap", 1, 1, "Item Shipped")]
    partial = [_item("1", "LAMP-2", "Desk lamp", 1, 1, "Item Shipped"),
               _item("2", "BULB-4", "LED bulb 4-pack", 2, 0, "Item Backordered")]
    return [
        _update("1001", "Pending", 30, 1, pending, cart="W-5001"),
        _update("1001", "Approved", 20, 2, pending, cart="W-5001"),
        _update("1002", "Approved", 50, 1, [dict(i, status="Item Pending", qty_shipped=0,
                                                 qty_needed=1) for i in shipped], cart="W-5002"),
        _update("1002", "Shipped", 4, 2, shipped, cart="W-5002", ship=today,
                tracking=[{"number": "1Z999AA10123456784", "carrier": "UPS", "shipped_on": today}]),
        _update("1003", "Some Items Backordered", 10, 1, partial, cart="W-5003",
                tracking=[{"number": "9400111201080805483016"}]),
    ]


def seed_demo(session: Session, factor_key: str, today: date) -> dict:
    """Create (or refresh) the demo store; return how to look an order up."""
    merchant = accounts.get_merchant_by_email(session, DEMO_EMAIL)
    if merchant is None:
        merchant = accounts.create_merchant(session, DEMO_EMAIL, DEMO_PASSWORD)
    accounts.renew(session, merchant, today + timedelta(days=365))
    store = session.scalar(select(Store).where(Store.slug == DEMO_SLUG))
    if store is None:
        store = accounts.create_store(session, merchant, DEMO_SLUG, "Demo Outfitters",
                                      support_email="help@demo.example",
                                      support_phone="+1 310 555 0100")
    _key, full_key = create_api_key(session, store, "demo")
    apply_updates(session, store, demo_updates(), factor_key=factor_key)
    return {"slug": store.slug, "order_number": "1002", "zip": DEMO_ZIP, "api_key": full_key,
            "email": DEMO_EMAIL, "password": DEMO_PASSWORD}
