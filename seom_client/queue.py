"""The stack: a durable SQLite queue of updates waiting to be sent.

Rows move pending -> (deleted | dead). A row's update_id is fixed
when it is enqueued, so a record is never sent under two ids. Every write runs
in ``BEGIN IMMEDIATE`` (writers queue on SQLite's lock, waiting up to the busy
timeout, instead of failing half-way) and, with WAL and ``synchronous=FULL``,
is on disk when the call returns.
"""

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import memory
from .errors import QueueError, UpdateError
from .updates import ENVELOPE, MAX_BODY, check_update, encode, fill, now_rfc3339

__all__ = ["Queue", "Record", "MAX_BODY", "ENVELOPE", "now_rfc3339"]

# The enqueue counters, read and written with one statement each.
COUNTERS_SQL = ("SELECT (SELECT value FROM meta WHERE key = 'next_sequence'), "
                "(SELECT value FROM meta WHERE key = 'last_occurred_at')")
SET_COUNTERS_SQL = ("INSERT INTO meta (key, value) VALUES ('next_sequence', ?), "
                    "('last_occurred_at', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
INSERT_SQL = ("INSERT INTO updates (update_id, order_number, body, size, created_at) "
              "VALUES (?, ?, ?, ?, ?)")

SCHEMA = """
CREATE TABLE IF NOT EXISTS updates (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    update_id       TEXT NOT NULL UNIQUE,
    order_number    TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'inflight', 'dead')),
    body            TEXT NOT NULL,
    size            INTEGER NOT NULL,
    created_at      REAL NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    last_error      TEXT,
    errors          TEXT
);
CREATE INDEX IF NOT EXISTS updates_state ON updates (state, id);
-- Rows scheduled for a retry, the only ones that can hold back an order's later rows
-- (claim). An enqueued row has next_attempt_at 0 and costs this index nothing.
CREATE INDEX IF NOT EXISTS updates_waiting ON updates (order_number, id)
    WHERE next_attempt_at > 0;
-- Files of earlier versions indexed every row by order: updates_waiting replaces it.
DROP INDEX IF EXISTS updates_order;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""


@dataclass
class Record:
    """One claimed update: its row id, ids and the JSON body to send."""

    id: int
    update_id: str
    order_number: str
    body: str
    size: int
    attempts: int = 0


class Queue:
    """A durable update queue in one SQLite file, safe across threads, processes and fork()."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_s: float = 30.0,
                 memory_days: float = 180) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self.memory_days = memory_days  # orders untouched this long are forgotten
        # The lock belongs to the process that made it: first use by several threads at
        # once must find it in place (a None pid would let each install its own RLock).
        self._pid = os.getpid()
        self._conn: sqlite3.Connection | None = None
        # Connections inherited over fork(): never used, never closed.
        self._orphans: list[sqlite3.Connection] = []
        self._lock = threading.RLock()

    # -- connection handling ---------------------------------------------------------------

    def _guard(self) -> threading.RLock:
        """Return the lock for this process, dropping state inherited over fork()."""
        if self._pid != os.getpid():
            if self._conn is not None:
                # A connection must not cross fork(); closing it here could disturb the
                # parent's locks, so the child just stops using it.
                self._orphans.append(self._conn)
            self._conn = None
            self._lock = threading.RLock()  # the parent's lock may have been held at fork()
            self._pid = os.getpid()
        return self._lock

    def _connection(self) -> sqlite3.Connection:
        """Return this process's connection (call with the guard lock held)."""
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        """Open the file, set WAL and full fsync, create the schema."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s,
                                   isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                for stmt in filter(str.strip, SCHEMA.split(";")):
                    conn.execute(stmt)
                memory.install(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise QueueError(f"cannot open queue {self.path}: {exc}") from exc
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """Run a write transaction; the caller's writes are durable when it exits."""
        with self._guard():
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise QueueError(f"queue {self.path} is busy or unusable: {exc}") from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """Yield the connection for reads (one snapshot per statement)."""
        with self._guard():
            yield self._connection()

    def close(self) -> None:
        """Close this process's connection."""
        with self._guard():
            if self._conn is not None:
                self._conn.close()
            self._conn = None

    # -- enqueue -----------------------------------------------------------------------------

    def enqueue(self, update: Mapping[str, Any]) -> dict[str, Any]:
        """Store one update durably and return it with update_id, sequence, occurred_at filled."""
        return self.enqueue_many([update])[0]

    def enqueue_many(self, updates: Iterable[Mapping[str, Any]], *,
                     remember: bool = False) -> list[dict[str, Any]]:
        """Store several updates in one transaction; optionally remember their orders' labels."""
        updates = list(updates)
        for update in updates:
            check_update(update)
        with self._tx() as conn:
            filled = self.insert(conn, updates)
            if remember:
                self.remember(conn, [(u["order"], u) for u in filled])
        return filled

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """Return a context manager holding the queue's write lock; its writes are durable on exit.

        Reads made inside it see no other writer's changes until it ends, so a
        decision taken on them (is an update due?) cannot race another process.
        """
        return self._tx()

    def insert(self, conn: sqlite3.Connection,
               updates: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Fill and store checked updates inside transaction(); return the filled copies."""
        filled = [dict(u) for u in updates]  # fill copies; the caller's dicts stay as given
        seq, last_at = conn.execute(COUNTERS_SQL).fetchone()
        seq, last_at = int(seq or 0), float(last_at or 0)
        rows = []
        for update in filled:
            seq, last_at = fill(update, seq, last_at)
            body, size = encode(update)
            rows.append((update["update_id"], update["order"]["order_number"], body,
                         size, time.time()))
        try:
            conn.executemany(INSERT_SQL, rows)
        except sqlite3.IntegrityError:
            raise UpdateError("an update with this update_id is already queued") from None
        conn.execute(SET_COUNTERS_SQL, (str(seq), repr(last_at)))
        return filled

    # -- the orders' memory (see memory.py) --------------------------------------------------

    def recall(self, conn: sqlite3.Connection, order_number: str) -> memory.Remembered | None:
        """Return what is remembered of an order (inside transaction()), or None."""
        return memory.recall(conn, order_number, memory.cutoff(self.memory_days))

    def remember(self, conn: sqlite3.Connection,
                 orders: Iterable[tuple[dict[str, Any], dict[str, Any] | None]]) -> None:
        """Remember (order snapshot, queued update or None) pairs inside transaction().

        Orders untouched for memory_days are deleted in the same write: an index
        range scan that finds nothing most of the time.
        """
        now = time.time()
        latest: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {}
        for order, update in orders:  # the last snapshot of each order wins
            latest[order["order_number"]] = (order, update)
        for order, update in latest.values():
            memory.remember(conn, order, now, update)
        memory.forget(conn, memory.cutoff(self.memory_days, now))

    def remembered(self, order_number: str) -> memory.Remembered | None:
        """Return what is remembered of an order, or None."""
        with self._read() as conn:
            return self.recall(conn, order_number)

    # -- controller side ---------------------------------------------------------------------

    def recover(self) -> int:
        """Return in-flight rows to pending (call only while holding the controller lock).

        Only queue files written by earlier versions hold such rows: claim() no
        longer marks anything.
        """
        with self._tx() as conn:
            return conn.execute("UPDATE updates SET state = 'pending' "
                                "WHERE state = 'inflight'").rowcount

    def claim(self, max_updates: int = 500, max_bytes: int = MAX_BODY,
              now: float | None = None) -> list[Record]:
        """Return the next sendable rows in queue order, without writing anything.

        A row is skipped while an earlier row of the same order waits for a
        retry, so one order's updates are never sent out of order. The rows stay
        pending until settle() records their outcome: only the controller holding
        the lock claims, and it settles a batch before claiming the next, so a
        mark on disk would only have to be undone after a crash.
        """
        now = time.time() if now is None else now
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id, update_id, order_number, body, size, attempts FROM updates u "
                "WHERE state = 'pending' AND next_attempt_at <= ? AND NOT EXISTS ("
                "  SELECT 1 FROM updates p WHERE p.order_number = u.order_number "
                "  AND p.id < u.id AND p.state != 'dead' AND p.next_attempt_at > 0 "
                "  AND p.next_attempt_at > ?) "
                "ORDER BY id LIMIT ?", (now, now, max_updates)).fetchall()
        batch: list[Record] = []
        total = ENVELOPE
        for row in rows:
            record = Record(*row)
            if batch and total + record.size + 1 > max_bytes:
                break
            batch.append(record)
            total += record.size + 1
        return batch

    def settle(self, delivered: Iterable[int] = (), dead: Mapping[int, Any] | None = None,
               retry: Mapping[int, float] | None = None, release: Iterable[int] = (),
               error: str | None = None, meta: Mapping[str, str | None] | None = None) -> None:
        """Record a batch's outcome in one transaction.

        ``delivered`` row ids are deleted, ``dead`` maps row id -> errors,
        ``retry`` maps row id -> next attempt time, ``release`` row ids go back
        to pending as they are; ``error`` becomes their last error; ``meta``
        values are stored in the same transaction. Every row not deleted counts
        one more attempt.
        """
        dead, retry = dead or {}, retry or {}
        with self._tx() as conn:
            _for_ids(conn, "DELETE FROM updates WHERE id IN ({})", list(delivered))
            conn.executemany("UPDATE updates SET state = 'dead', errors = ?, last_error = ?, "
                             "attempts = attempts + 1 WHERE id = ?",
                             [(json.dumps(e), error, i) for i, e in dead.items()])
            conn.executemany("UPDATE updates SET state = 'pending', next_attempt_at = ?, "
                             "last_error = ?, attempts = attempts + 1 WHERE id = ?",
                             [(t, error, i) for i, t in retry.items()])
            conn.executemany("UPDATE updates SET state = 'pending', last_error = ?, "
                             "attempts = attempts + 1 WHERE id = ?",
                             [(error, i) for i in release])
            for key, value in (meta or {}).items():
                self._set_meta(conn, key, value)

    def next_due(self) -> float | None:
        """Return when the earliest pending row becomes sendable, or None if none is pending."""
        with self._read() as conn:
            row = conn.execute("SELECT MIN(next_attempt_at) FROM updates "
                               "WHERE state = 'pending'").fetchone()
        return None if row[0] is None else float(row[0])

    # -- inspection and dead letters ---------------------------------------------------------

    def counts(self) -> dict[str, Any]:
        """Return {'pending', 'inflight', 'dead', 'oldest_created_at'}."""
        with self._read() as conn:
            counts = dict(conn.execute("SELECT state, COUNT(*) FROM updates GROUP BY state"))
            oldest = conn.execute("SELECT MIN(created_at) FROM updates "
                                  "WHERE state != 'dead'").fetchone()[0]
        return {"pending": counts.get("pending", 0), "inflight": counts.get("inflight", 0),
                "dead": counts.get("dead", 0), "oldest_created_at": oldest}

    def dead(self) -> list[dict[str, Any]]:
        """Return the dead letters as dicts (id, update_id, order_number, errors, update)."""
        with self._read() as conn:
            rows = conn.execute("SELECT id, update_id, order_number, errors, last_error, body "
                                "FROM updates WHERE state = 'dead' ORDER BY id").fetchall()
        return [{"id": r[0], "update_id": r[1], "order_number": r[2],
                 "errors": json.loads(r[3]) if r[3] else None, "reason": r[4],
                 "update": json.loads(r[5])} for r in rows]

    def retry_dead(self, ids: Iterable[int] | None = None) -> int:
        """Move dead letters (all, or the given row ids) back to pending; return how many."""
        return self._dead_op("UPDATE updates SET state = 'pending', next_attempt_at = 0, "
                             "errors = NULL", ids)

    def drop_dead(self, ids: Iterable[int] | None = None) -> int:
        """Delete dead letters (all, or the given row ids); return how many."""
        return self._dead_op("DELETE FROM updates", ids)

    def _dead_op(self, sql: str, ids: Iterable[int] | None) -> int:
        with self._tx() as conn:
            if ids is None:
                return conn.execute(sql + " WHERE state = 'dead'").rowcount
            return sum(conn.execute(sql + " WHERE state = 'dead' AND id = ?", (i,)).rowcount
                       for i in ids)

    def updates(self, state: str | None = None) -> list[dict[str, Any]]:
        """Return the queued updates (optionally of one state) in queue order."""
        with self._read() as conn:
            if state:
                rows = conn.execute("SELECT body FROM updates WHERE state = ? ORDER BY id",
                                    (state,))
            else:
                rows = conn.execute("SELECT body FROM updates ORDER BY id")
            return [json.loads(r[0]) for r in rows]

    def integrity_check(self) -> str:
        """Return SQLite's integrity_check result ('ok' when healthy)."""
        with self._read() as conn:
            return str(conn.execute("PRAGMA integrity_check").fetchone()[0])

    # -- meta --------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """Return a stored metadata value or None."""
        with self._read() as conn:
            return self._meta(conn, key)

    def set_meta(self, **values: str | None) -> None:
        """Store metadata values (None deletes)."""
        with self._tx() as conn:
            for key, value in values.items():
                self._set_meta(conn, key, value)

    @staticmethod
    def _meta(conn: sqlite3.Connection, key: str) -> str | None:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @staticmethod
    def _set_meta(conn: sqlite3.Connection, key: str, value: str | None) -> None:
        if value is None:
            conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
                         "DO UPDATE SET value = excluded.value", (key, value))


IDS_PER_STATEMENT = 500  # far below SQLite's limit on bound parameters


def _for_ids(conn: sqlite3.Connection, sql: str, ids: list[int]) -> None:
    """Run sql once per slice of ids, its ``{}`` replaced by that many placeholders.

    One statement for a whole batch, not one per row: a drained batch is 500 rows.
    """
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        chunk = ids[start:start + IDS_PER_STATEMENT]
        conn.execute(sql.format(",".join("?" * len(chunk))), chunk)
