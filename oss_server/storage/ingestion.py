"""Ingestion's concurrency, in one place: what two batches for the same store may race on.

Every caller of ``services.updates.apply_updates`` (the API, the CLI, demo data) gets it:

- **The SQLite write lock** (:func:`lock_for_batch`). SQLite's driver begins a
  transaction only at the first write, so the batch's reads would run outside it and
  another worker could commit a newer snapshot of the same order between this batch's
  reads and its writes. Begun IMMEDIATE, the transaction holds the database's one write
  lock from the batch's first read; it is taken once the batch is validated, so another
  worker's batch can be written meanwhile.
- **Row locks** on PostgreSQL: the stored orders are read ``FOR UPDATE`` in key order (the
  ``lock`` of ``keyed_reads.KeyedRead``), so two batches naming the same orders take
  turns and never deadlock.
- **Conflicting inserts** (:func:`retry_on_conflict`). On PostgreSQL two batches can
  both find an order or update id missing and both insert it; the loser's unique index
  refuses the row. Its reads and writes are redone once from a savepoint, against what
  the winner stored: its orders are then updated and its repeated ids answered as
  duplicates. On SQLite the write lock makes this race impossible, so no savepoint is
  taken there (its SAVEPOINT and RELEASE were a measurable share of a small batch).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from . import DbSession
from .fixed_reads import driver_connection

T = TypeVar("T")


def lock_for_batch(session: DbSession) -> None:
    """On SQLite, hold the database's write lock before reading what the batch changes."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        driver = driver_connection(connection)
        if not driver.in_transaction:
            driver.execute("BEGIN IMMEDIATE")


def retry_on_conflict(session: DbSession, run: Callable[[bool], T]) -> T:
    """Run ``run(True)``; when a concurrent batch inserted the same rows first, ``run(False)``.

    Called once the write lock is held (:func:`lock_for_batch`). The first run goes in a
    savepoint, so its rollback takes only its own reads' locks and writes (and the emails
    it queued) with it; the second, told it is a redo, reads what the other batch
    committed. On SQLite the batch holds the one write lock, so no other writer can
    insert the same rows: it runs once, without a savepoint.
    """
    if session.connection().dialect.name == "sqlite":
        return run(True)
    try:
        with session.begin_nested():
            return run(True)
    except IntegrityError:
        return run(False)
