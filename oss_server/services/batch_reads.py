"""The batch's keyed reads (``… WHERE key IN (values)``) on the driver's own cursor.

An ingestion batch reads its receipts, its stored orders, their lines and the ids of
the orders it inserted: each a few hundred rows found by a list of keys. Through Core
each costs its compile-cache lookup, execution context and row objects, several times
what the database spends on it. Here the statement is rendered once per dialect, runs
on the session's connection in its transaction, and only columns whose type converts
values (times) go through SQLAlchemy's own result processor, as ``fixed_reads`` does.

On PostgreSQL the key list is one array parameter (``= ANY(%s::type[])``); on SQLite an
``IN (?, …)`` with one marker per value, rendered per list length (a batch's few
hundred keys, far below SQLite's limit on parameters).
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import String, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

__all__ = ["KeyedRead"]


class KeyedRead:
    """``SELECT columns FROM table WHERE [store_id = s AND] key IN (values)``."""

    def __init__(self, table: Table, columns: tuple[str, ...], key: str,
                 scoped: bool = False):
        self.table, self.columns, self.key, self.scoped = table, columns, key, scoped

    def all(self, session: Session, values, store_id: int | None = None) -> list[tuple]:
        """Return the rows (tuples of *columns*) whose key is one of *values*."""
        values = list(values)
        if not values:
            return []
        connection = session.connection()
        dialect = connection.dialect
        postgresql = dialect.name == "postgresql"
        sql = _sql(self, dialect, 1 if postgresql else len(values))
        args = [values] if postgresql else values
        if self.scoped:
            args.insert(0, store_id)
        rows = _fetch(connection, sql, args)
        processors = _processors(self, dialect)
        if not processors:
            return rows
        return [_converted(row, processors) for row in rows]


def _fetch(connection, sql: str, args: list) -> list:
    dbapi = connection.dialect.loaded_dbapi
    # The pooled DBAPI connection, in the transaction the session has open.
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, args)
        return cursor.fetchall()
    except dbapi.Error as exc:
        # Raised as Core raises a statement's errors, so callers see one kind.
        raise DBAPIError.instance(sql, args, exc, dbapi.Error,
                                  dialect=connection.dialect) from exc
    finally:
        cursor.close()


def _converted(row, processors) -> tuple:
    row = list(row)
    for index, process in processors:
        if row[index] is not None:
            row[index] = process(row[index])
    return tuple(row)


@lru_cache(maxsize=64)
def _sql(read: KeyedRead, dialect: Dialect, markers: int) -> str:
    quote = dialect.identifier_preparer.quote
    marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    if marker is None:
        raise NotImplementedError(f"paramstyle {dialect.paramstyle!r}")
    if dialect.name == "postgresql":
        # psycopg picks an array type from the values; the cast names the column's.
        array = array_type(read.table.c[read.key].type, dialect)
        match = f"{quote(read.key)} = ANY({marker}::{array})"
    else:
        match = f"{quote(read.key)} IN ({', '.join(marker for _ in range(markers))})"
    where = f"{quote('store_id')} = {marker} AND {match}" if read.scoped else match
    return (f"SELECT {', '.join(quote(c) for c in read.columns)} "
            f"FROM {dialect.identifier_preparer.format_table(read.table)} WHERE {where}")


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
