"""Typed models, split by domain."""
from .accounts import ApiKey, Merchant, Store
from .base import Base, utcnow
from .lookups import LookupFailures, LookupStat
from .orders import Order, OrderItem, StatusChange, Tracking
from .outbox import OutboxEmail
from .portal_logins import PortalSession
from .receipts import Activity, UpdateReceipt
from .refusals import ApiRefusal
from .throttle import LoginThrottle

__all__ = [
    "Activity", "ApiKey", "ApiRefusal",
    "Base", "LoginThrottle", "LookupFailures", "LookupStat", "Merchant",
    "Order", "OrderItem", "OutboxEmail", "PortalSession",
    "StatusChange",
    "Store", "Tracking", "UpdateReceipt", "utcnow",
]
