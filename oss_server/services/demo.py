"""Seed a demo merchant and store with orders in several states."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from ..models import Order, Store
from ..storage import DbSession
from . import accounts
from .keys import derived_key, ensure_key, key_state
from .passwords import verify_password
from .updates import apply_updates

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password-123"
DEMO_SLUG = "demo"
DEMO_ZIP = "90210"
DEMO_ORDER = "1002"


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
    # Standard labels only, so the demo reads in every shopper language.
    pending = [_item("1", "MUG-01", "Stoneware mug", 2, 0, "Item Added")]
    shipped = [_item("1", "TEE-M", "Cotton tee, M", 1, 1, "Item Shipped"),
               _item("2", "CAP-RED", "Red cap", 1, 1, "Item Shipped")]
    partial = [_item("1", "LAMP-2", "Desk lamp", 1, 1, "Item Shipped"),
               _item("2", "BULB-4", "LED bulb 4-pack", 2, 0, "Item Backordered")]
    return [
        _update("1001", "Received", 30, 1, pending, cart="W-5001"),
        _update("1001", "Approved", 20, 2, pending, cart="W-5001"),
        _update("1002", "Approved", 50, 1, [dict(i, status="Item Added", qty_shipped=0,
                                                 qty_needed=1) for i in shipped], cart="W-5002"),
        _update("1002", "Shipped", 4, 2, shipped, cart="W-5002", ship=today,
                tracking=[{"number": "1Z999AA10123456784", "carrier": "UPS", "shipped_on": today}]),
        _update("1003", "Some Items Backordered", 10, 1, partial, cart="W-5003",
                tracking=[{"number": "9400111201080805483016"}]),
    ]


def seed_demo(session: DbSession, factor_key: str, today: date, key_seed: str) -> dict:
    """Create the demo store, or find it again; return what is true of it now.

    Idempotent: run again, it adds no key, no order and no history. The demo key is
    derived from *key_seed* (the app's secret key), so the same key is found each time;
    it is reported only while it still works, and the password only while unchanged.
    """
    merchant = accounts.get_merchant_by_email(session, DEMO_EMAIL)
    if merchant is None:
        merchant = accounts.create_merchant(session, DEMO_EMAIL, DEMO_PASSWORD)
    accounts.renew(session, merchant, today + timedelta(days=365))
    store = session.scalar(select(Store).where(Store.slug == DEMO_SLUG))
    if store is None:
        store = accounts.create_store(session, merchant, DEMO_SLUG, "Demo Outfitters",
                                      support_email="help@demo.example",
                                      support_phone="+1 310 555 0100",
                                      timezone="America/Los_Angeles")
        # Only into a new store: run again, it would log the same updates as duplicates.
        apply_updates(session, store, demo_updates(), factor_key=factor_key)
    full_key = derived_key(key_seed, "demo-store")
    key = ensure_key(session, store, full_key, "demo")
    order = session.scalar(select(Order.id).where(Order.store_id == store.id,
                                                  Order.order_number == DEMO_ORDER))
    return {
        "slug": store.slug, "order_number": DEMO_ORDER, "zip": DEMO_ZIP,
        "lookup": "ok" if order is not None and store.allow_zip
        else ("zip_off" if order is not None else "order_gone"),
        "email": DEMO_EMAIL,
        "password": DEMO_PASSWORD if verify_password(merchant.password_hash,
                                                     DEMO_PASSWORD)[0] else None,
        "api_key": full_key if key.store_id == store.id and key_state(key) == "active" else None,
    }
