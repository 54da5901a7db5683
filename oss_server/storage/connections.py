"""Connections for reads that need no transaction."""
from __future__ import annotations

from sqlalchemy.engine import Engine


def reading_engine(engine: Engine) -> Engine:
    """*engine* for pages that only read: in autocommit mode where that saves round trips.

    Without a transaction there is no BEGIN before the first read and no ROLLBACK when
    the connection goes back to the pool: on PostgreSQL two round trips of a page's four.
    The result shares the pool of *engine*; the option is set at checkout and reset at
    checkin, which on SQLite (whose driver starts no transaction for a SELECT) would be
    work for nothing.
    """
    if engine.dialect.name == "sqlite":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")
