"""Failed-lookup limits, shared by every worker process and server.

:class:`LookupLimiter` applies the per-order and per-IP rules (:mod:`.lockout`) to one
store's lookups through a counter back end: the database (default; SQLite and
PostgreSQL, ``storage/lookup_counters.py``) or Redis when ``OSS_RATELIMIT_STORAGE_URI``
is ``redis://`` / ``rediss://`` (``storage/redis_counters.py``). Both offer the same
methods: ``connection``, ``attempt``, ``reserve``, ``release``, ``clear``. With database
counters :meth:`LookupLimiter.attempt` is one transaction that holds the buckets' rows
from check to count.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol, TypeVar

from sqlalchemy.engine import Connection, Engine

from ..storage.lookup_counters import DatabaseCounters
from ..storage.redis_counters import RedisCounters
from .lockout import Limit, Locked, Reservation, ip_bucket, order_bucket, parse_limits

__all__ = ["Counters", "LookupLimiter", "Locked", "build_limiter"]

T = TypeVar("T")


class Counters(Protocol):
    """What a counter back end offers the limiter."""

    def connection(self) -> AbstractContextManager[Connection]: ...

    def attempt(self, buckets: dict[str, list[Limit]], now: float,
                check: Callable[[Connection], T], conn: Connection | None = None) -> T: ...

    def reserve(self, buckets: dict[str, list[Limit]], now: float) -> Reservation: ...

    def release(self, reservation: Reservation) -> None: ...

    def clear(self) -> None: ...


class LookupLimiter:
    """The per-order and per-IP rules applied to one store's lookups."""

    def __init__(self, counters: Counters, per_order: list[Limit], per_ip: list[Limit],
                 clock=time.time):
        self.counters, self.per_order, self.per_ip, self.clock = counters, per_order, per_ip, clock

    def reserve(self, store_id: int, typed_number: str, address: str | None) -> Reservation:
        """Hold a slot for one lookup; raise :class:`Locked` if a limit is reached."""
        return self.counters.reserve(self._buckets(store_id, typed_number, address),
                                     self.clock())

    def _buckets(self, store_id: int, typed_number: str, address: str | None) -> dict:
        return {order_bucket(store_id, typed_number): self.per_order,
                ip_bucket(address): self.per_ip}

    def release(self, reservation: Reservation) -> None:
        """Give back a slot: the lookup succeeded, so it is not a failure."""
        self.counters.release(reservation)

    def connection(self) -> AbstractContextManager[Connection]:
        """A connection for a lookup's first reads, which :meth:`attempt` then reuses.

        The store's read and the bookkeeping transaction share one pooled connection (one
        checkout per lookup, not two).
        """
        return self.counters.connection()

    def attempt(self, store_id: int, typed_number: str, address: str | None,
                check: Callable[[Connection], T], conn: Connection | None = None) -> T:
        """Run *check* under the limits; a falsy result counts as a failure.

        Raises :class:`Locked` before *check* runs when a limit is reached. *check* gets
        the connection of the transaction its writes commit on (*conn*, from
        :meth:`connection`, when given).
        """
        return self.counters.attempt(self._buckets(store_id, typed_number, address),
                                     self.clock(), check, conn)


def build_limiter(config: dict, engine: Engine) -> LookupLimiter:
    """Build the limiter the configuration asks for (Redis or the database)."""
    uri = str(config.get("OSS_RATELIMIT_STORAGE_URI") or "")
    counters: Counters
    if uri.startswith(("redis://", "rediss://", "unix://")):
        counters = RedisCounters(uri, config.get("OSS_LOOKUP_KEY_PREFIX", "oss:lookup:"), engine)
    else:
        # memory:// would count per process; the database is shared by all of them.
        counters = DatabaseCounters(engine)
    return LookupLimiter(counters, parse_limits(config["OSS_LOOKUP_LIMIT_PER_ORDER"]),
                         parse_limits(config["OSS_LOOKUP_LIMIT_PER_IP"]))
