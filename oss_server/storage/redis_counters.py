"""Lookup failure counters in Redis (``OSS_RATELIMIT_STORAGE_URI`` = ``redis://``, ``rediss://``).

Each bucket is a sorted set of failure times; :data:`RESERVE_SCRIPT` applies the rule of
:func:`..services.lockout.retry_after` and counts in one atomic step. A test checks the
script's verdicts against that one definition.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from typing import TypeVar

from sqlalchemy.engine import Connection, Engine

from ..services.lockout import Limit, Locked, Reservation, hashed, longest_period

T = TypeVar("T")

# The rule of retry_after, run in Redis so that check and count are one atomic step.
RESERVE_SCRIPT = """
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

    def __init__(self, uri: str, prefix: str = "oss:lookup:", engine: Engine | None = None):
        import redis

        self.client = redis.Redis.from_url(uri)
        self.prefix = prefix
        # The database a lookup's check reads and writes its tally on (None: only the
        # counters are used, as in tests of the script alone; attempt then refuses).
        self.engine = engine
        self._reserve = self.client.register_script(RESERVE_SCRIPT)

    def _key(self, name: str) -> str:
        return self.prefix + hashed(name)

    def reserve(self, buckets: dict[str, list[Limit]], now: float) -> Reservation:
        names = sorted(buckets)
        longest = longest_period(buckets)
        reservation = Reservation(names, now)
        specs = [",".join(f"{r.amount}:{r.period}" for r in buckets[n]) for n in names]
        member = f"{now:.6f}:{reservation.token}"
        wait = float(self._reserve(keys=[self._key(n) for n in names],
                                   args=[repr(now), member, longest, *specs]))
        if wait > 0:
            raise Locked(wait)
        return reservation

    def connection(self) -> AbstractContextManager[Connection]:
        """A connection of the database for the lookup's reads and its tally."""
        if self.engine is None:
            raise RuntimeError("Redis counters built without a database run no lookups")
        return self.engine.connect()

    def attempt(self, buckets: dict[str, list[Limit]], now: float,
                check: Callable[[Connection], T], conn: Connection | None = None) -> T:
        """Reserve, run ``check(conn)`` in a transaction of *conn*, release on a truthy result.

        What *check* writes (the tally, the shopper's language) commits when it returns,
        as it does with database counters; a failure stays counted in Redis.
        """
        reservation = self.reserve(buckets, now)
        with ExitStack() as stack:
            if conn is None:
                conn = stack.enter_context(self.connection())
            stack.enter_context(conn.begin())
            result = check(conn)
        if result:
            self.release(reservation)
        return result

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
