"""Lookup failure counters in the database (the default; SQLite and PostgreSQL).

They apply the rule of :mod:`..services.lockout` on rows of the ``lookup_failures``
table, one short transaction per lookup that holds the buckets' rows from the check to
the count. Never in process memory, whose limit would multiply by the number of workers.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta, timezone
from typing import TypeVar

from sqlalchemy import bindparam, create_engine, delete, event, update
from sqlalchemy.engine import Connection, Dialect, Engine

from ..models import LookupFailures
from ..services.lockout import Limit, Locked, Reservation, hashed, longest_period, retry_after
from .fixed_reads import bind_processor, driver_execute, driver_mark
from .locking import write_locked

T = TypeVar("T")


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

    def connection(self) -> AbstractContextManager[Connection]:
        """A connection for a lookup's first reads, which :meth:`attempt` then reuses."""
        return self.engine.connect()

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
        longest = longest_period(buckets)
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
                    conn.execute(self._release_stmt, {"key": hashed(name), "failures": stamps})

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
        by_hash = {hashed(name): name for name in sorted(names)}
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
                for value in (hashed(name), self._to_json(stamps[name]), until)]
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
