"""The lockout rule of shopper lookups: buckets, limits and how long a bucket stays locked.

A lookup first *reserves* a slot in each of its buckets (the order number as typed in
that store, and the client address). The reservation counts as a failure while the
lookup runs, so a burst of concurrent guesses cannot all slip past the check; a lookup
that finds its order *releases* the slot, so only failures stay counted.

A rule ``amount`` per ``period`` locks a bucket for a whole ``period`` from the failure
that reached it (5 failures in 15 minutes lock for 15 minutes, the 20th of a day for
24 hours): failures spread over 14 minutes lock as long as five quick ones. While locked
nothing is counted, so the newest failure is the one that reached the limit.

This module is the rule's one definition; the counters that apply it live in
``storage/lookup_counters.py`` (database) and ``storage/redis_counters.py`` (Redis, as
a Lua script a test checks against :func:`retry_after`).
"""
from __future__ import annotations

import hashlib
import ipaddress
import math
import uuid
from dataclasses import dataclass, field
from functools import lru_cache

import limits as limits_lib


@dataclass(frozen=True)
class Limit:
    """At most *amount* failures per *period* seconds."""

    amount: int
    period: int


def parse_limits(text: str) -> list[Limit]:
    """Parse Flask-Limiter notation, e.g. ``"5 per 15 minutes; 20 per day"``."""
    items = limits_lib.parse_many(text)
    if not items:
        raise ValueError(f"no limit in {text!r}")
    return [Limit(item.amount, item.get_expiry()) for item in items]


def order_bucket(store_id: int, typed_number: str) -> str:
    """Bucket of one order number as typed in one store, whether or not it exists."""
    return f"order:{store_id}:{typed_number.strip().casefold()}"


@lru_cache(maxsize=4096)
def ip_bucket(address: str | None) -> str:
    """Bucket of a client address; IPv6 counts per /64, the block one host usually holds."""
    # Cached: parsing an address costs as much as one of the lookup's statements (see
    # docs/performance.md), and the same clients come back.
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return f"ip:{address}"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return f"ip:{ip.ipv4_mapped}"
        return f"ip:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"ip:{ip}"


def retry_after(stamps: list[float], rules: list[Limit], now: float) -> float:
    """Seconds the bucket stays locked (0 when it admits one more failure).

    A rule is reached when ``amount`` failures lie within ``period`` up to the newest one;
    it then locks until ``period`` after that newest failure.
    """
    if not stamps:
        return 0.0
    newest = max(stamps)
    wait = 0.0
    for rule in rules:
        if sum(1 for t in stamps if t > newest - rule.period) >= rule.amount:
            wait = max(wait, newest + rule.period - now)
    return wait


def hashed(bucket: str) -> str:
    """The name a bucket is stored under: no order number or address in the clear."""
    return hashlib.sha256(bucket.encode()).hexdigest()


@dataclass
class Reservation:
    """Slots held by one lookup in flight; ``release`` them when the lookup succeeds."""

    buckets: list[str]
    stamp: float
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


class Locked(Exception):
    """Some bucket is over its limit; ``retry_after`` is in whole seconds."""

    def __init__(self, retry_after: float):
        super().__init__(f"locked for {retry_after:.0f}s")
        self.retry_after = max(1, math.ceil(retry_after))


def longest_period(buckets: dict[str, list[Limit]]) -> int:
    """The longest period of any rule: how long a failure can matter."""
    return max(rule.period for rules in buckets.values() for rule in rules)
