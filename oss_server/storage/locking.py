"""Transactions that hold the write lock from their first statement.

Counters that must be checked and counted as one step (lookup failures, sign-in
throttles) run in such a transaction. On SQLite a plain transaction only takes the write
lock at its first write, so two workers could both read a counter before either wrote it:
``BEGIN IMMEDIATE`` takes the database's write lock at once, and every other writer waits
for the commit. On PostgreSQL the transaction is an ordinary one: the callers lock the
rows they read (an upsert or ``SELECT … FOR UPDATE``), which is finer than a database lock.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection


@contextmanager
def write_locked(conn: Connection) -> Iterator[Connection]:
    """Run a transaction on *conn* that, on SQLite, holds the write lock from its start."""
    with conn.begin():
        if conn.dialect.name == "sqlite":
            driver_statement(conn, "BEGIN IMMEDIATE")
        yield conn


def driver_statement(conn: Connection, sql: str) -> None:
    """Run *sql* on the driver's cursor, outside SQLAlchemy's view of the transaction."""
    # SQLAlchemy would begin a transaction of its own before the statement.
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()
