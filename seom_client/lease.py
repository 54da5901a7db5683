"""The single-controller lease, held in the queue's own SQLite file (works on every platform).

One row of the queue's ``meta`` table, key ``controller``, names the controller that drains
the queue: a random owner id, pid, host, start time, last heartbeat and an expiry. Taking
or renewing it is one ``BEGIN IMMEDIATE`` transaction, so two processes can never both
believe they hold it. The holder renews it every ``RENEW_S`` from a thread of its own (a
slow POST must not let it lapse); a holder that dies, even by kill -9 or a power cut, stops
renewing and another controller takes over once ``LEASE_S`` has passed.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from .errors import ControllerLockedError, QueueError

log = logging.getLogger(__name__)

KEY = "controller"
LEASE_S = 6.0   # a silent holder is presumed dead after this long
RENEW_S = 1.5   # how often the holder renews (several renewals fit in one lease)
BUSY_MS = 5000  # a renewal waits this long for a busy queue before trying again later


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_MS / 1000, isolation_level=None,
                           check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
    conn.execute("PRAGMA journal_mode = WAL")  # as the queue has it, whoever opens the file first
    conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    return conn


def read(path: Path | str) -> dict[str, Any] | None:
    """Return the lease record of a queue file, or None (no file, no row, unreadable)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(path, timeout=BUSY_MS / 1000)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (KEY,)).fetchone()
        finally:
            conn.close()
        return json.loads(row[0]) if row else None
    except (sqlite3.Error, ValueError):
        return None


def is_live(record: dict[str, Any] | None, now: float | None = None) -> bool:
    """Return True when a lease record has not expired."""
    if not record:
        return False
    now = time.time() if now is None else now
    try:
        return float(record.get("expires_at", 0)) > now
    except (TypeError, ValueError):
        return False


def holder_gone(record: dict[str, Any] | None) -> bool:
    """Return True when the holder ran on this host and its process no longer exists.

    Lets a restarted controller take over at once instead of waiting out the lease. Only
    where signal 0 probes a process (POSIX); on Windows os.kill would end the process, so
    there the lease simply expires. A reused pid reads as alive: the safe direction.
    """
    if not record or os.name != "posix" or record.get("host") != socket.gethostname():
        return False
    try:
        pid = int(record.get("pid", 0))
    except (TypeError, ValueError):
        return False
    if pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: it exists, under another user
        return False
    return False


class Lease:
    """This process's claim on one queue; acquire() once, then it renews itself until release()."""

    def __init__(self, path: Path | str, *, lease_s: float = LEASE_S, renew_s: float = RENEW_S):
        self.path = Path(path)
        self.lease_s = lease_s
        self.renew_s = renew_s
        self.owner = uuid.uuid4().hex
        self.lost = threading.Event()  # set when another controller took the lease from us
        self._pid = os.getpid()
        self._started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None

    @property
    def held(self) -> bool:
        """Return True while this process holds the lease."""
        return self._thread is not None and not self.lost.is_set() and self._pid == os.getpid()

    def acquire(self) -> None:
        """Take the lease or raise ControllerLockedError naming the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = _connect(self.path)
            taken, holder = self._write(take=True)
        except sqlite3.Error as exc:
            self._close()
            raise QueueError(f"cannot use queue {self.path}: {exc}") from exc
        if not taken:
            self._close()
            where = f" (pid {holder.get('pid')} on {holder.get('host')})" if holder else ""
            raise ControllerLockedError(f"another controller is draining {self.path}{where}")
        self._stop.clear()
        self.lost.clear()
        self._thread = threading.Thread(target=self._keep, name="seom-client-lease", daemon=True)
        self._thread.start()

    def release(self) -> None:
        """Stop renewing and delete the lease row (when it is still ours)."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(10)
        self._thread = None
        if self._pid == os.getpid() and self._conn is not None:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                row = conn.execute("SELECT value FROM meta WHERE key = ?", (KEY,)).fetchone()
                if row and self.owner in row[0]:  # the owner id is 32 random hex digits
                    conn.execute("DELETE FROM meta WHERE key = ?", (KEY,))
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                log.warning("could not clear the controller lease: %s", exc)
        self._close()

    def _keep(self) -> None:
        """Renew the lease until released; note it when another controller has taken it."""
        while not self._stop.wait(self.renew_s):
            if self._pid != os.getpid():
                return  # a forked copy of this thread's object: the child never renews
            try:
                taken, holder = self._write(take=False)
            except sqlite3.Error as exc:  # busy for 5 s: the next renewal tries again
                log.warning("could not renew the controller lease: %s", exc)
                continue
            if not taken:
                log.error("another controller (pid %s on %s) took over this queue",
                          (holder or {}).get("pid"), (holder or {}).get("host"))
                self.lost.set()
                return

    def _write(self, take: bool) -> tuple[bool, dict[str, Any] | None]:
        """Take (or renew) the lease in one transaction; return (ok, the current holder)."""
        conn = self._conn
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (KEY,)).fetchone()
            try:
                holder = json.loads(row[0]) if row else None
            except ValueError:
                holder = None
            now = time.time()
            ours = holder is not None and holder.get("owner") == self.owner
            live = is_live(holder, now) and not holder_gone(holder)
            if not ours and (not take or live):
                conn.execute("ROLLBACK")
                return False, holder
            record = {"owner": self.owner, "pid": self._pid, "host": socket.gethostname(),
                      "started_at": self._started_at, "heartbeat_at": now,
                      "expires_at": now + self.lease_s}
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
                         "DO UPDATE SET value = excluded.value", (KEY, json.dumps(record)))
            conn.execute("COMMIT")
            return True, record
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None
