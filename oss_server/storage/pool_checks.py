"""Check a pooled database connection before use only when it has sat idle.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` at every checkout: on PostgreSQL one
more round trip per request, as long as a status page's own reads. A connection handed
back a moment ago is known to work; one that sat idle may have been cut by a database
restart, a failover or a network device in between. So a connection is pinged only after
``IDLE_PING_S`` idle. A failed ping raises ``DisconnectionError``: the pool then drops
that connection and checks out another, so no request sees it. A connection that dies
while in use fails its request (a 503 the client retries): through Core, SQLAlchemy then
renews the whole pool; on the driver's cursor (``storage/fixed_reads.core_errors``) that
connection is invalidated and replaced.
"""
from __future__ import annotations

import time

from sqlalchemy import event, exc
from sqlalchemy.pool import Pool

IDLE_PING_S = 1.0


def _local(dbapi_connection) -> bool:
    # An SQLite file cannot be cut off: nothing to check.
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Pool, "checkin")
def _note_idle(dbapi_connection, record):
    if dbapi_connection is not None:
        record.info["idle_since"] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_if_idle(dbapi_connection, record, _proxy):
    # A connection its driver already knows is broken goes without a round trip.
    if getattr(dbapi_connection, "closed", False):
        raise exc.DisconnectionError("connection is closed")
    idle_since = record.info.get("idle_since")
    # A connection just made (no idle_since yet) or just handed back needs no check.
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_S:
        return
    if _local(dbapi_connection):
        return
    try:
        _ping(dbapi_connection)
    except Exception as error:
        raise exc.DisconnectionError(f"idle connection is gone: {error}") from error


def _ping(dbapi_connection) -> None:
    # Outside a transaction, as SQLAlchemy's own ping does: psycopg would otherwise open
    # one with its own round trip and leave it open.
    autocommit = getattr(dbapi_connection, "autocommit", None)
    if autocommit is False:
        dbapi_connection.autocommit = True
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
    finally:
        if autocommit is False and not getattr(dbapi_connection, "closed", False):
            dbapi_connection.autocommit = False
