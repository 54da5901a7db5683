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
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Callable, Iterator, TypeVar

import limits as limits_lib
from sqlalchemy import bindparam, create_engine, delete, event, update
from sqlalchemy.engine import Connection, Dialect, Engine

from ..models import LookupFailures
from ..storage.fixed_reads import bind_processor, driver_execute, driver_mark
from ..storage.locking import write_locked

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


@lru_cache(maxsize=4096)
def ip_bucket(address: str | None) -> str:
    """Bucket of a client address; IPv6 counts per /64, the block one host usually holds."""
    # Cached: parsing takes about 10 µs for an IPv4 address and 60 µs for IPv6, as much
    # as one of the lookup's statements, and the same clients come back.
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
        self.engine = _bookkeeping_engine(engine)
        table = LookupFailures.__table__
        self._rows = _CounterRows(engine.dialect)
        self._release_stmt = update(table).where(table.c.bucket == bindparam("key"))
        self._prune_stmt = delete(table).where(table.c.expires_at < bindparam("now"))
        self._pruned_at = float("-inf")

    @contextmanager
    def _transaction(self, conn: Connection | None = None) -> Iterator[Connection]:
        """A transaction for lookup bookkeeping whose commit does not wait for the disk.

        Counters and tallies are written on every lookup, and a durable commit waits for
        a disk flush each time: on SQLite with every worker waiting behind it, as the flush
        happens under the write lock. Atomicity and isolation are kept (the check-and-count
        holds); what an operating-system crash or power cut could cost is the last moment's
        counts, which an attacker cannot bring about. PostgreSQL: ``synchronous_commit``
        off for this transaction only, set by the lock statement every bookkeeping
        transaction starts with (see :class:`_CounterRows`). SQLite (WAL): the
        bookkeeping's own connections run with ``synchronous=NORMAL`` (see
        :func:`_bookkeeping_engine`); every other connection, ingestion's, stays FULL.

        On SQLite the transaction begins IMMEDIATE: it holds the database write lock from
        its first statement, which is what makes the check-and-count atomic there.

        On *conn* when given (a connection of :attr:`engine` that the lookup read its
        store on), else on a connection of its own.
        """
        if conn is None:
            with self.engine.connect() as own, self._transaction(own) as conn:
                yield conn
            return
        with write_locked(conn):
            yield conn

    def reserve(self, buckets: dict[str, list[Limit]], now: float) -> Reservation:
        with self._transaction() as conn:
            self._count(conn, buckets, self._check(conn, buckets, now), now)
        self._maybe_prune(now)
        return Reservation(sorted(buckets), now)

    def attempt(self, buckets: dict[str, list[Limit]], now: float,
                check: Callable[[Connection], T], conn: Connection | None = None) -> T:
        """Run ``check(conn)`` under the limits; count a failure unless it returns a truthy value.

        One transaction instead of reserve, check and release: the buckets' rows stay
        locked from the limit check to the count (on SQLite, the database write lock), so
        a concurrent lookup of the same bucket waits and then sees this one counted. A
        success counts nothing; *check* runs on the same connection, so whatever it
        writes commits with the count. The transaction runs on *conn* when given.
        """
        checked = False
        try:
            with self._transaction(conn) as conn:
                states = self._check(conn, buckets, now)
                checked = True
                result = check(conn)
                if not result:
                    self._count(conn, buckets, states, now)
        except Exception:
            if checked:
                # The check failed half-way and took its transaction with it: the attempt
                # still counts, or an error would be a free guess. On a connection of its
                # own: the lookup's may be the one that failed.
                with self._transaction() as conn:
                    self._count(conn, buckets, self._rows.lock(conn, buckets, now), now)
            raise
        self._maybe_prune(now)
        return result

    def _check(self, conn, buckets: dict[str, list[Limit]], now: float) -> dict:
        states = self._rows.lock(conn, buckets, now)
        wait = max(retry_after(states[n], rules, now) for n, rules in buckets.items())
        if wait > 0:
            raise Locked(wait)
        return states

    def _count(self, conn, buckets: dict[str, list[Limit]], states: dict, now: float) -> None:
        longest = max(rule.period for rules in buckets.values() for rule in rules)
        kept = {}
        for name, rules in buckets.items():
            keep = max(rule.amount for rule in rules)
            kept[name] = [t for t in states[name] if t > now - longest][-keep:] + [now]
        self._rows.store(conn, kept, now + longest)

    def _maybe_prune(self, now: float) -> None:
        if now - self._pruned_at >= self.PRUNE_EVERY or now < self._pruned_at:
            self._prune(now)

    def release(self, reservation: Reservation) -> None:
        with self._transaction() as conn:
            states = self._rows.lock(conn, reservation.buckets, reservation.stamp)
            for name, stamps in states.items():
                if reservation.stamp in stamps:
                    stamps.remove(reservation.stamp)
                    conn.execute(self._release_stmt, {"key": _hashed(name), "failures": stamps})

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


class _CounterRows:
    """The counters' two statements, as the driver's own SQL, for any number of buckets.

    Each is one multi-row statement on the DBAPI cursor: every lookup runs the lock, and
    through Core a statement costs more in execution context and result rows than
    SQLite takes to run it (PostgreSQL: a round trip per bucket saved too). Values go
    through the columns' own type processors, so rows read and write as through Core.
    """

    def __init__(self, dialect: Dialect):
        table = LookupFailures.__table__
        self.table = table.name
        self.mark = driver_mark(dialect)
        # SQLite's transaction already holds the write lock (BEGIN IMMEDIATE): the rows
        # are only read, and a lookup that finds its order writes none of them.
        self.read_only_lock = dialect.name == "sqlite"
        self._to_json = bind_processor(table.c.failures.type, dialect)
        self._to_time = bind_processor(table.c.expires_at.type, dialect)
        self._sql: dict[tuple[str, int], str] = {}

    def lock(self, conn: Connection, names, now: float) -> dict[str, list[float]]:
        """Lock the buckets' rows and return their failure times (none for a new bucket).

        PostgreSQL: an upsert that changes nothing still takes the row lock until commit,
        and makes a missing row to lock; rows go in sorted order, so two lookups never
        wait on each other crosswise. SQLite: the transaction's write lock covers them.
        Either way check-and-count is atomic.

        On PostgreSQL the statement also turns ``synchronous_commit`` off for its
        transaction: ``set_config(..., true)`` is ``SET LOCAL``, without a round trip of
        its own.
        """
        by_hash = {_hashed(name): name for name in sorted(names)}
        if self.read_only_lock:
            args = list(by_hash)
        else:
            empty, expires = self._to_json([]), self._to_time(_utc(now))
            args = [value for key in by_hash for value in (key, empty, expires)]
        rows = driver_execute(conn, self._statement("lock", len(by_hash)), args, fetch=True)
        stamps: dict[str, list[float]] = {name: [] for name in by_hash.values()}
        stamps.update((by_hash[row[0]], self._stamps(row[1])) for row in rows)
        return stamps

    def store(self, conn: Connection, stamps: dict[str, list[float]], expires: float) -> None:
        """Write each bucket's failure times, making the rows that are not there yet."""
        until = self._to_time(_utc(expires))
        args = [value for name in sorted(stamps)
                for value in (_hashed(name), self._to_json(stamps[name]), until)]
        driver_execute(conn, self._statement("store", len(stamps)), args)

    def _stamps(self, value) -> list[float]:
        if isinstance(value, str):  # some drivers hand JSON back as text
            value = json.loads(value)
        return [float(t) for t in value or []]

    def _statement(self, kind: str, count: int) -> str:
        sql = self._sql.get((kind, count))
        if sql is None and kind == "lock" and self.read_only_lock:
            sql = self._sql[(kind, count)] = (
                f"SELECT bucket, failures FROM {self.table} WHERE bucket IN "
                f"({', '.join([self.mark] * count)})")
        elif sql is None:
            row = f"({self.mark}, {self.mark}, {self.mark})"
            change = ("expires_at = {0}.expires_at RETURNING bucket, failures, "
                      "set_config('synchronous_commit', 'off', true)" if kind == "lock"
                      else "failures = excluded.failures, expires_at = excluded.expires_at")
            sql = self._sql[(kind, count)] = (
                f"INSERT INTO {self.table} (bucket, failures, expires_at) VALUES "
                f"{', '.join([row] * count)} ON CONFLICT (bucket) DO UPDATE SET "
                + change.format(self.table))
        return sql


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

    def connection(self) -> AbstractContextManager[Connection | None]:
        """A connection for a lookup's first reads, which :meth:`attempt` then reuses.

        With database counters the store's read and the bookkeeping transaction share one
        pooled connection (one checkout per lookup, not two); other counters give None.
        """
        if isinstance(self.counters, DatabaseCounters):
            return self.counters.engine.connect()
        return nullcontext()

    def attempt(self, store_id: int, typed_number: str, address: str | None,
                check: Callable[[Connection | None], T], conn: Connection | None = None) -> T:
        """Run *check* under the limits; a falsy result counts as a failure.

        Raises :class:`Locked` before *check* runs when a limit is reached. Database
        counters pass *check* their transaction's connection (on *conn*, from
        :meth:`connection`, when given); others pass None.
        """
        buckets = {order_bucket(store_id, typed_number): self.per_order,
                   ip_bucket(address): self.per_ip}
        if isinstance(self.counters, DatabaseCounters):
            return self.counters.attempt(buckets, self.clock(), check, conn)
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


def _bookkeeping_engine(engine: Engine) -> Engine:
    """The engine lookup bookkeeping runs on: on an SQLite file, one of its own.

    Its connections commit with ``synchronous=NORMAL`` (see
    :meth:`DatabaseCounters._transaction`) for as long as they live, and only the
    bookkeeping uses them: the app's pool keeps FULL for every other write, without
    switching the setting twice per lookup. The app's connect hook (foreign keys, busy
    timeout, WAL, memory map) runs on them first. Elsewhere the app's engine itself: on
    PostgreSQL the setting is per transaction; an in-memory SQLite database is one
    connection's and has no disk to wait for.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return engine
    relaxed = create_engine(engine.url)
    event.listen(relaxed, "connect", _relax_sqlite)
    return relaxed


def _relax_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _utc(seconds: float) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=seconds)
