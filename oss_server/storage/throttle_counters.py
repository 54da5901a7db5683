"""The sign-in throttle's counters in the ``login_throttle`` table (SQLite and PostgreSQL).

The rules (policies, waits) are ``services/throttle.py``'s; here is how the counters are
locked, read and written in one transaction that holds them from the check to the count
(``BEGIN IMMEDIATE`` on SQLite, row locks on PostgreSQL; see :mod:`.locking`).
"""
from __future__ import annotations

import threading
from datetime import datetime
from weakref import WeakKeyDictionary

from sqlalchemy import create_engine, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from ..models import LoginThrottle
from . import DbSession

# A counter's state: (failures, window start, locked until).
State = tuple[int, datetime, "datetime | None"]


def lock_counters(conn: Connection, keys, now: datetime) -> dict[str, State | None]:
    """Read the keys' counters, locked until the transaction ends (None: no counter yet).

    PostgreSQL: an upsert that changes nothing still locks the row until commit, and
    makes a missing row to lock; rows go in sorted order, so two attempts never wait on
    each other crosswise. SQLite: the transaction already holds the write lock.
    """
    table = LoginThrottle.__table__
    names = sorted(keys)
    found: dict[str, State | None] = dict.fromkeys(names)
    columns = (table.c.key, table.c.failures, table.c.window_start, table.c.locked_until)
    if conn.dialect.name == "postgresql":
        statement = (postgresql.insert(table)
                     .values([{"key": k, "failures": 0, "window_start": now} for k in names])
                     .on_conflict_do_update(index_elements=[table.c.key],
                                            set_={"failures": table.c.failures})
                     .returning(*columns))
        rows = conn.execute(statement)
    else:
        query = select(*columns).where(table.c.key.in_(names))
        if conn.dialect.name != "sqlite":
            query = query.order_by(table.c.key).with_for_update()
        rows = conn.execute(query)
    for key, failures, start, locked in rows:
        # A row made just now by the upsert counts as no counter yet.
        found[key] = (failures, start, locked) if failures else None
    return found


def store_counters(conn: Connection, states: dict[str, State]) -> None:
    """Write each key's counter, making the rows that are not there yet."""
    table = LoginThrottle.__table__
    rows = [{"key": key, "failures": failures, "window_start": start, "locked_until": locked}
            for key, (failures, start, locked) in sorted(states.items())]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(rows)
    conn.execute(statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={name: statement.excluded[name]
              for name in ("failures", "window_start", "locked_until")}))


_engines: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()
_engines_lock = threading.Lock()


def counter_engine(session: DbSession) -> Engine:
    """The app's database on a pool of its own.

    The request holds its session's connection while it counts: a burst of attempts each
    waiting for a second connection of the same pool could take every connection and wait
    for ever (until the pool's timeout).
    """
    engine = session.get_bind().engine  # a session bound to a Connection: its engine
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return engine  # an in-memory database exists on one connection only
    with _engines_lock:
        own = _engines.get(engine)
        if own is None:
            own = new = _engines[engine] = create_engine(engine.url, pool_size=2,
                                                         max_overflow=8)
            event.listen(engine, "engine_disposed", lambda _conn: new.dispose())
    return own
