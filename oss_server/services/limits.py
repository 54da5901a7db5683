"""Failed-lookup limits, shared by every worker process and server.

A lookup first *reserves* a slot in each of its buckets (the order number as typed in
that store, and the client address). The reservation counts as a failure while the
lookup runs, so a burst of concurrent guesses cannot all slip past the check; a lookup
that finds its order *releases* the slot, so only failures stay counted.
:meth:`LookupLimiter.attempt` does both around the check itself; with database counters
it is one transaction that holds the buckets' rows from check to count.

A rule ``amount`` per ``period`` locks a bucket for a whole ``period`` from the failure
that reached it (5 failures in 15 minutes lock for 15 minutes, the 20th of a day for
24 hours): failures spread over 14 minutes lock as long as five quick ones. While locked
nothing is counted, so the newest failure is the one that reached the limit.

Counters live in the database (default; SQLite and PostgreSQL) or in Redis when
``OSS_RATELIMIT_STORAGE_URI`` is ``redis://`` / ``rediss://``; never in process memory,
whose limit would multiply by the number of workers.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import math
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator, TypeVar

import limits as limits_lib
from sqlalchemy import bindparam, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from ..models import LookupFailures

T = TypeVar("T")

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


def ip_bucket(address: str | None) -> str:
    """Bucket of a client address; IPv6 counts per /64, the block one host usually holds."""
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


def _hashed(bucket: str) -> str:
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


class DatabaseCounters:
    """Counters in the ``lookup_failures`` table, on their own short transactions.

    They commit independently of the request's session, like an external store would:
    a counted failure must hold even if the request later fails, and a reservation must
    be visible to other workers before the factors are checked.
    """

    # Idle buckets are forgotten at most this often per process: housekeeping only, the
    # limits themselves read nothing but the rows' own timestamps.
    PRUNE_EVERY = 60.0

    def __init__(self, engine: Engine):
        self.engine = engine
        table = LookupFailures.__table__
        # Statements built once: every lookup runs them, and a prebuilt statement skips
        # SQLAlchemy's per-call construction (its compiled form is cached).
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        # An upsert that changes nothing still takes the row lock (PostgreSQL) or the
        # database write lock (SQLite) until commit: check-and-count becomes atomic.
        self._lock_stmt = (dialect.insert(table)
                           .on_conflict_do_update(index_elements=[table.c.bucket],
                                                  set_={"expires_at": table.c.expires_at})
                           .returning(table.c.failures))
        self._store_stmt = update(table).where(table.c.bucket == bindparam("key"))
        self._prune_stmt = delete(table).where(table.c.expires_at < bindparam("now"))
        self._pruned_at = float("-inf")

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A transaction for lookup bookkeeping whose commit does not wait for the disk.

        Counters and tallies are written on every lookup, and a durable commit waits for
        a disk flush each time: on SQLite with every worker waiting behind it, as the flush
        happens under the write lock. Atomicity and isolation are kept (the check-and-count
        holds); what an operating-system crash or power cut could cost is the last moment's
        counts, which an attacker cannot bring about. PostgreSQL: ``synchronous_commit``
        off for this transaction only. SQLite (WAL): ``synchronous=NORMAL`` for it, FULL
        again before the connection goes back to the pool, so ingestion stays durable.
        """
        with self.engine.connect() as conn:
            sqlite_file = conn.dialect.name == "sqlite"
            if sqlite_file:
                _driver_statement(conn, "PRAGMA synchronous=NORMAL")
            try:
                with conn.begin():
                    if not sqlite_file:
                        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                    yield conn
            finally:
                if sqlite_file:
                    try:
                        _driver_statement(conn, "PRAGMA synchronous=FULL")
                    except Exception:
                        # Never hand back a connection that may still be relaxed; and
                        # keep whatever error the lookup itself raised.
                        conn.invalidate()

    def reserve(self, buckets: dict[str, list[Limit]], now: float) -> Reservation:
        with self._transaction() as conn:
            self._count(conn, buckets, self._check(conn, buckets, now), now)
        self._maybe_prune(now)
        return Reservation(sorted(buckets), now)

    def attempt(self, buckets: dict[str, list[Limit]], now: float,
                check: Callable[[Connection], T]) -> T:
        """Run ``check(conn)`` under the limits; count a failure unless it returns a truthy value.

        One transaction instead of reserve, check and release: the buckets' rows stay
        locked from the limit check to the count (on SQLite, the database write lock), so
        a concurrent lookup of the same bucket waits and then sees this one counted. A
        success counts nothing; *check* runs on the same connection, so whatever it
        writes commits with the count.
        """
        checked = False
        try:
            with self._transaction() as conn:
                states = self._check(conn, buckets, now)
                checked = True
                result = check(conn)
                if not result:
                    self._count(conn, buckets, states, now)
        except Exception:
            if checked:
                # The check failed half-way and took its transaction with it: the attempt
                # still counts, or an error would be a free guess.
                with self.engine.begin() as conn:
                    states = {name: self._lock(conn, name, now) for name in sorted(buckets)}
                    self._count(conn, buckets, states, now)
            raise
        self._maybe_prune(now)
        return result

    def _check(self, conn, buckets: dict[str, list[Limit]], now: float) -> dict:
        # Lock in a fixed order so two lookups never wait on each other crosswise.
        states = {name: self._lock(conn, name, now) for name in sorted(buckets)}
        wait = max(retry_after(states[n], rules, now) for n, rules in buckets.items())
        if wait > 0:
            raise Locked(wait)
        return states

    def _count(self, conn, buckets: dict[str, list[Limit]], states: dict, now: float) -> None:
        longest = max(rule.period for rules in buckets.values() for rule in rules)
        for name, rules in buckets.items():
            keep = max(rule.amount for rule in rules)
            stamps = [t for t in states[name] if t > now - longest][-keep:] + [now]
            conn.execute(self._store_stmt, {"key": _hashed(name), "failures": stamps,
                                            "expires_at": _utc(now + longest)})

    def _maybe_prune(self, now: float) -> None:
        if now - self._pruned_at >= self.PRUNE_EVERY or now < self._pruned_at:
            self._prune(now)

    def release(self, reservation: Reservation) -> None:
        with self.engine.begin() as conn:
            for name in reservation.buckets:
                stamps = self._lock(conn, name, reservation.stamp)
                if reservation.stamp in stamps:
                    stamps.remove(reservation.stamp)
                    conn.execute(self._store_stmt, {"key": _hashed(name), "failures": stamps})

    def clear(self) -> None:
        """Forget every counter (tests and operators)."""
        with self.engine.begin() as conn:
            conn.execute(delete(LookupFailures))

    def _prune(self, now: float) -> None:
        # On a transaction of its own: deleting rows while holding our own locks could
        # deadlock against a lookup pruning ours.
        self._pruned_at = now
        with self.engine.begin() as conn:
            conn.execute(self._prune_stmt, {"now": _utc(now)})

    def _lock(self, conn, name: str, now: float) -> list[float]:
        stamps = conn.execute(self._lock_stmt, {"bucket": _hashed(name), "failures": [],
                                                "expires_at": _utc(now)}).scalar_one()
        if isinstance(stamps, str):  # some drivers hand JSON back as text
            stamps = json.loads(stamps)
        return [float(t) for t in stamps or []]


# The rule of retry_after, run in Redis so that check and count are one atomic step.
_RESERVE = """
local now = tonumber(ARGV[1])
local longest = tonumber(ARGV[3])
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - longest)
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if #top == 2 then
    local newest = tonumber(top[2])
    for amount, period in string.gmatch(ARGV[3 + i], '(%d+):(%d+)') do
      period = tonumber(period)
      if redis.call('ZCOUNT', key, '(' .. (newest - period), '+inf') >= tonumber(amount) then
        local w = newest + period - now
        if w > wait then wait = w end
      end
    end
  end
end
if wait > 0 then return tostring(wait) end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('EXPIRE', key, math.ceil(longest))
end
return '0'
"""


class RedisCounters:
    """Counters as sorted sets of failure times, checked and added in one Lua script."""

    def __init__(self, uri: str, prefix: str = "oss:lookup:"):
        import redis

        self.client = redis.Redis.from_url(uri)
        self.prefix = prefix
        self._reserve = self.client.register_script(_RESERVE)

    def _key(self, name: str) -> str:
        return self.prefix + _hashed(name)

    def reserve(self, buckets: dict[str, list[Limit]], now: float) -> Reservation:
        names = sorted(buckets)
        longest = max(rule.period for rules in buckets.values() for rule in rules)
        reservation = Reservation(names, now)
        specs = [",".join(f"{r.amount}:{r.period}" for r in buckets[n]) for n in names]
        member = f"{now:.6f}:{reservation.token}"
        wait = float(self._reserve(keys=[self._key(n) for n in names],
                                   args=[repr(now), member, longest, *specs]))
        if wait > 0:
            raise Locked(wait)
        return reservation

    def release(self, reservation: Reservation) -> None:
        member = f"{reservation.stamp:.6f}:{reservation.token}"
        pipe = self.client.pipeline()
        for name in reservation.buckets:
            pipe.zrem(self._key(name), member)
        pipe.execute()

    def clear(self) -> None:
        """Forget every counter under this prefix (tests and operators)."""
        for key in self.client.scan_iter(match=self.prefix + "*"):
            self.client.delete(key)


class LookupLimiter:
    """The per-order and per-IP rules applied to one store's lookups."""

    def __init__(self, counters, per_order: list[Limit], per_ip: list[Limit], clock=time.time):
        self.counters, self.per_order, self.per_ip, self.clock = counters, per_order, per_ip, clock

    def reserve(self, store_id: int, typed_number: str, address: str | None) -> Reservation:
        """Hold a slot for one lookup; raise :class:`Locked` if a limit is reached."""
        buckets = {order_bucket(store_id, typed_number): self.per_order,
                   ip_bucket(address): self.per_ip}
        return self.counters.reserve(buckets, self.clock())

    def release(self, reservation: Reservation) -> None:
        """Give back a slot: the lookup succeeded, so it is not a failure."""
        self.counters.release(reservation)

    def attempt(self, store_id: int, typed_number: str, address: str | None,
                check: Callable[[Connection | None], T]) -> T:
        """Run *check* under the limits; a falsy result counts as a failure.

        Raises :class:`Locked` before *check* runs when a limit is reached. Database
        counters pass *check* their transaction's connection; others pass None.
        """
        buckets = {order_bucket(store_id, typed_number): self.per_order,
                   ip_bucket(address): self.per_ip}
        if isinstance(self.counters, DatabaseCounters):
            return self.counters.attempt(buckets, self.clock(), check)
        reservation = self.counters.reserve(buckets, self.clock())
        result = check(None)
        if result:
            self.counters.release(reservation)
        return result


def build_limiter(config: dict, engine: Engine) -> LookupLimiter:
    """Build the limiter the configuration asks for (Redis or the database)."""
    uri = str(config.get("OSS_RATELIMIT_STORAGE_URI") or "")
    if uri.startswith(("redis://", "rediss://", "unix://")):
        counters = RedisCounters(uri, config.get("OSS_LOOKUP_KEY_PREFIX", "oss:lookup:"))
    else:
        # memory:// would count per process; the database is shared by all of them.
        counters = DatabaseCounters(engine)
    return LookupLimiter(counters, parse_limits(config["OSS_LOOKUP_LIMIT_PER_ORDER"]),
                         parse_limits(config["OSS_LOOKUP_LIMIT_PER_IP"]))


def _driver_statement(conn: Connection, sql: str) -> None:
    # On the driver's cursor: outside any transaction (SQLAlchemy would begin one).
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def _utc(seconds: float) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)
