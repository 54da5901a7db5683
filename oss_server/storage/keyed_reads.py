"""The batch's keyed reads (``… WHERE key IN (values)``) on the driver's own cursor.

An ingestion batch reads its receipts, its stored orders, their lines and the ids of
the orders it inserted: each a few hundred rows found by a list of keys. Through Core
each costs its compile-cache lookup, execution context and row objects, several times
what the database spends on it. Here the statement is rendered once per dialect, runs
on the session's connection in its transaction, and only columns whose type converts
values (times) go through SQLAlchemy's own result processor, as ``fixed_reads`` does.

On PostgreSQL the key list is one array parameter (``= ANY(%s::type[])``, or for a key
unique within a store one index probe per array element, see ``_probes``); on SQLite an
``IN (?, …)`` with one marker per value (a batch's few hundred keys, far below SQLite's
limit on parameters), the list padded to a power of two (see ``padded``). A read can be
sent and its rows collected later: inside ``ahead`` a PostgreSQL server runs it while
the caller goes on.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import String, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

from . import DbSession
from .fixed_reads import core_errors, driver_connection, driver_mark

if TYPE_CHECKING:
    import psycopg

__all__ = ["KeyedRead", "Pending", "ahead", "overlaps", "padded"]


class KeyedRead:
    """``SELECT columns FROM table WHERE [store_id = s AND] key IN (values)``."""

    def __init__(self, table: Table, columns: tuple[str, ...], key: str,
                 scoped: bool = False, lock: bool = False, unique: bool = False,
                 replan: bool = False):
        self.table, self.columns, self.key, self.scoped = table, columns, key, scoped
        # On PostgreSQL, rows read to be changed are locked until the transaction ends.
        self.lock = lock
        # Unique within the store: on PostgreSQL each key is then one probe of the unique
        # index on (key, store_id) (see _probes). The table must have no other index that
        # `store_id = ?` alone can use, or a plan made without statistics may probe that
        # one and filter instead (orders: see its model).
        self.probe = unique and scoped
        # Planned anew at every run on PostgreSQL (send): for a key that is not unique
        # (an order's lines), where no probe fits and a kept plan may scan the table.
        self.replan = replan

    def statement_text(self, dialect: Dialect, markers: int = 1) -> str:
        """The driver's SQL of this read on *dialect*, for *markers* keys (SQLite)."""
        return _sql(self, dialect, markers)

    def all(self, session: DbSession, values, store_id: int | None = None) -> list[tuple]:
        """Return the rows (tuples of *columns*) whose key is one of *values*."""
        return self.send(session, values, store_id).rows()

    def send(self, session: DbSession, values, store_id: int | None = None) -> Pending:
        """Start the read; its rows come from :meth:`Pending.rows`.

        Inside :func:`ahead` on PostgreSQL the statement is only sent: the server runs it
        while the caller goes on. Elsewhere it runs at once.
        """
        values = list(values)
        if not values:
            return Pending(None, self, None, "", [])
        connection = session.connection()
        dialect = connection.dialect
        postgresql = dialect.name == "postgresql"
        markers = 1  # PostgreSQL takes the keys as one array
        if not postgresql:
            keys = padded(values)
            markers = len(keys)
            args = [store_id, *keys] if self.scoped else keys
        elif self.probe:
            # The probe's markers come array first; a key named twice would be probed,
            # and its row returned, twice. Rows read to be changed are locked one probe
            # at a time, in key order: two batches naming the same rows lock them in the
            # same order, and one waits for the other instead of deadlocking.
            keys = sorted(set(values)) if self.lock else list(dict.fromkeys(values))
            args = [keys, store_id]
        else:
            args = [store_id, values] if self.scoped else [values]
        sql = _sql(self, dialect, markers)
        # The pooled DBAPI connection, in the transaction the session has open.
        cursor = connection.connection.cursor()
        with _as_core_errors(connection, sql, args, cursor):
            if postgresql and self.replan:
                # Never kept prepared, so no generic plan made before the table had
                # statistics can stay (see _probes): for `order_id = ANY($1)` such a
                # plan scans all the lines; planned with the keys as a constant, a few
                # keys are found by the order_id index (figures: docs/performance.md,
                # "Figures behind the storage code").
                # prepare= is psycopg's own, beyond the DBAPI cursor SQLAlchemy types.
                cast("psycopg.Cursor[Any]", cursor).execute(sql, args, prepare=False)
            else:
                cursor.execute(sql, args)
        return Pending(connection, self, cursor, sql, args)


class Pending:
    """A read that was sent; :meth:`rows` waits for its result once."""

    def __init__(self, connection, read: KeyedRead, cursor, sql: str, args: list):
        self.connection, self.read, self.cursor = connection, read, cursor
        self.sql, self.args = sql, args

    def rows(self) -> list[tuple]:
        """Return the rows, their time columns converted as Core would."""
        if self.cursor is None:
            return []
        try:
            with _as_core_errors(self.connection, self.sql, self.args, self.cursor):
                rows = self.cursor.fetchall()
        finally:
            self.cursor.close()
            self.cursor = None
        processors = _processors(self.read, self.connection.dialect)
        if not processors:
            return rows
        return [_converted(row, processors) for row in rows]


def overlaps(session: DbSession) -> bool:
    """Tell whether reads sent inside :func:`ahead` run while the block goes on."""
    return session.connection().dialect.name == "postgresql"


@contextmanager
def ahead(session: DbSession):
    """Reads sent inside run on a PostgreSQL server while the block goes on.

    The block must not use the connection otherwise. psycopg's pipeline mode sends each
    statement at once and collects the results when the block ends; SQLite runs in this
    process, so there is nothing to overlap and its reads simply run when sent.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        yield
        return
    with _as_core_errors(connection, "(pipelined reads)", None, None):
        with driver_connection(connection).pipeline():
            yield


def padded(values: list) -> list:
    """*values* made up to a power of two by repeating the first; IN matches the same rows.

    sqlite3 keeps the statements it prepared per connection, by their text: a list of
    any length would be a new statement, parsed again, in nearly every batch (parsing a
    few hundred markers costs more than binding twice as many values).
    """
    size = 1 << (len(values) - 1).bit_length()
    return values + [values[0]] * (size - len(values))


@contextmanager
def _as_core_errors(connection, sql: str, args, cursor):
    try:
        with core_errors(connection, sql, args, cursor):
            yield
    except DBAPIError:
        if cursor is not None:
            cursor.close()
        raise


def _converted(row, processors) -> tuple:
    row = list(row)
    for index, process in processors:
        if row[index] is not None:
            row[index] = process(row[index])
    return tuple(row)


@lru_cache(maxsize=64)
def _sql(read: KeyedRead, dialect: Dialect, markers: int) -> str:
    quote = dialect.identifier_preparer.quote
    marker = driver_mark(dialect)
    if dialect.name == "postgresql":
        # psycopg picks an array type from the values; the cast names the column's.
        array = array_type(read.table.c[read.key].type, dialect)
        if read.probe:
            return _probes(read, dialect, array)
        match = f"{quote(read.key)} = ANY({marker}::{array})"
    else:
        match = f"{quote(read.key)} IN ({', '.join(marker for _ in range(markers))})"
    where = f"{quote('store_id')} = {marker} AND {match}" if read.scoped else match
    sql = (f"SELECT {', '.join(quote(c) for c in read.columns)} "
           f"FROM {dialect.identifier_preparer.format_table(read.table)} WHERE {where}")
    if read.lock and dialect.name == "postgresql":
        # In id order, so two batches naming the same rows lock them in the same order
        # and one waits for the other instead of deadlocking. (SQLite has one writer.)
        sql += f" ORDER BY {quote('id')} FOR UPDATE"
    return sql


def _probes(read: KeyedRead, dialect: Dialect, array: str) -> str:
    """One unique-index probe per key, whatever the planner believes of the table.

    psycopg prepares a statement it has run five times, and PostgreSQL may then keep one
    generic plan for the connection's life. Planned while the table was small (a new
    store, or statistics that autovacuum has not refreshed yet), ``store_id = $1 AND key =
    ANY($2)`` became a scan of the store's whole index with the array searched per row:
    a batch's receipt check grew fourfold over 10,000 receipts. A ``LIMIT 1``
    lateral subquery probing the unique index with both columns costs one descent per
    key in every plan, as fast as the best plan of the ``ANY`` form.
    """
    quote, marker = dialect.identifier_preparer.quote, driver_mark(dialect)
    columns = ", ".join(quote(c) for c in read.columns)
    probe = (f"SELECT {columns} FROM {dialect.identifier_preparer.format_table(read.table)} "
             f"WHERE {quote('store_id')} = {marker} AND {quote(read.key)} = k.v LIMIT 1"
             + (" FOR UPDATE" if read.lock else ""))
    return (f"SELECT r.* FROM unnest({marker}::{array}) AS k(v) "
            f"CROSS JOIN LATERAL ({probe}) AS r")


def array_type(column_type, dialect: Dialect) -> str:
    """The PostgreSQL array type for values of *column_type* (strings: unbounded text).

    A cast to ``varchar(64)`` would cut a longer value short, so a key that cannot be
    stored could match one that is; text compares the value whole.
    """
    if isinstance(column_type, String):
        return "text[]"
    return f"{column_type.compile(dialect=dialect)}[]"


@lru_cache(maxsize=64)
def _processors(read: KeyedRead, dialect: Dialect) -> tuple:
    pairs = []
    for index, name in enumerate(read.columns):
        column_type = read.table.c[name].type
        process = column_type.dialect_impl(dialect).result_processor(dialect, None)
        if process is not None:
            pairs.append((index, process))
    return tuple(pairs)
