"""The settings every SQLite connection gets as it is made (foreign keys, WAL, syncs)."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

SQLITE_MMAP_BYTES = 1 << 30


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """Settings of every new SQLite connection (no effect on other databases)."""
    # SQLite: enforce foreign keys, wait for writers instead of failing, WAL for concurrency.
    # synchronous=FULL syncs the WAL at every commit: a client deletes an update once we
    # answer "applied", so a commit must survive a power cut, not only a crash (NORMAL).
    # One sync per commit is cheap here: ingestion commits once per batch.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        # Read the database's first GiB through a memory map: a page already in the OS
        # cache is then read without a system call and a copy (status pages: see
        # docs/performance.md); the map is address space shared by every connection,
        # not memory of each.
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()
