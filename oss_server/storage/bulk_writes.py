"""Executemany INSERT and UPDATE without SQLAlchemy's per-row parameter handling.

For an executemany, SQLAlchemy builds a parameter dict per row and calls every
column's bind processor on it; for the few thousand narrow rows one ingestion batch
writes, that costs about three times what the database itself spends. Here the
statement is rendered once per dialect and column list, rows become tuples in C
(``itemgetter``, ``zip``), and only columns whose type converts values run a
processor: SQLAlchemy's own, memoised per distinct value, so rows are stored
exactly as Core would store them. Statements still run through the connection
(``exec_driver_sql``): events fire, and errors arrive as SQLAlchemy exceptions
(an ``IntegrityError`` from a racing worker stays one).

On SQLite an INSERT carries many rows (``VALUES (…), (…), …``, at most
``_SQLITE_PARAMETERS`` parameters a statement): sqlite3's executemany resets, binds and
steps the statement once per row, which costs more than the rows inserted in one go
(docs/performance.md, "Figures behind the storage code"). The rows are inserted in the
order given, as executemany inserts them.

On PostgreSQL an INSERT is a ``COPY … FROM STDIN`` instead: psycopg's executemany
sends one Bind/Execute per row and costs several times its client CPU. COPY is
all-or-nothing like the INSERT and runs in the same transaction; it goes to the
driver directly (no cursor events), and its errors are wrapped as SQLAlchemy wraps
a statement's.
"""
from __future__ import annotations

from functools import lru_cache
from itertools import chain
from operator import itemgetter

from sqlalchemy import (
    ARRAY,
    JSON,
    ColumnElement,
    Date,
    DateTime,
    Table,
    TypeDecorator,
    any_,
    bindparam,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

from . import DbSession
from .keyed_reads import padded

__all__ = ["delete_rows", "insert_rows", "one_of", "update_rows"]

# SQLite's smallest limit on a statement's parameters (999 before 3.32): any build takes it.
_SQLITE_PARAMETERS = 999


def one_of(session: DbSession, column, values) -> ColumnElement[bool]:
    """``column IN values`` for a few hundred values, as cheap as the dialect allows.

    On PostgreSQL it is ``column = ANY(array)``: one parameter, where an expanded IN
    renders, casts and makes psycopg parse one placeholder per value (a long query
    psycopg does not cache), which costs more than the lookup itself.
    """
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(bindparam(None, values, expanding=True))


def insert_rows(session: DbSession, table: Table, rows: list[dict]) -> None:
    """INSERT *rows* (dicts with the same keys) into *table* in one executemany."""
    if rows:
        _run(session, table, rows, tuple(rows[0]), None)


def update_rows(session: DbSession, table: Table, rows: list[dict], key: str = "id") -> None:
    """UPDATE the rows of *table* whose *key* column equals each row's *key* value."""
    if rows:
        columns = tuple(name for name in rows[0] if name != key)
        _run(session, table, rows, columns, key)


def delete_rows(session: DbSession, table: Table, column: str, values: list) -> None:
    """DELETE the rows of *table* whose *column* is one of *values*.

    Rendered once per dialect (and, on SQLite, per number of values) and run through
    the connection: a Core ``delete()`` would be compiled and its IN list expanded on
    every call, which cost more than the delete itself.
    """
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql":
        if values:
            connection.exec_driver_sql(_delete(dialect, table, column, 0), (list(values),))
        return
    step = 512  # a power of two below SQLite's smallest limit on parameters
    for start in range(0, len(values), step):
        chunk = tuple(padded(list(values[start:start + step])))
        connection.exec_driver_sql(_delete(dialect, table, column, len(chunk)), chunk)


@lru_cache(maxsize=64)
def _delete(dialect: Dialect, table: Table, column: str, count: int) -> str:
    quote = dialect.identifier_preparer.quote
    if dialect.name == "postgresql":
        # One array parameter, cast to the column's type (see one_of).
        match = f"= ANY(%s::{table.c[column].type.compile(dialect=dialect)}[])"
    else:
        match = f"IN ({', '.join('?' for _ in range(count))})"
    return (f"DELETE FROM {dialect.identifier_preparer.format_table(table)} "
            f"WHERE {quote(column)} {match}")


def _run(session: DbSession, table: Table, rows: list[dict], columns: tuple, key) -> None:
    connection = session.connection()
    dialect = connection.dialect
    names = columns + ((key,) if key else ())
    width = len(names)
    sql, processors = _statement(dialect, table, columns, key)
    # All values in one flat list, row after row: a column is every width-th value, so
    # a processor runs over a column at a time, and the rows are cut from it in C.
    pick = itemgetter(*names)
    flat = list(chain.from_iterable(map(pick, rows))) if width > 1 else list(map(pick, rows))
    for index, process, memo in processors:
        flat[index::width] = _convert(process, flat[index::width], memo)
    if key is None and dialect.name == "postgresql":
        _copy(connection, sql, zip(*[iter(flat)] * width))
    elif key is None and dialect.name == "sqlite":
        _insert_many(connection, sql, width, flat)
    else:
        connection.exec_driver_sql(sql, list(zip(*[iter(flat)] * width)))


def _insert_many(connection, sql: str, width: int, flat: list) -> None:
    # Through the connection like any statement: cursor events fire, errors are Core's.
    start, total = 0, len(flat) // width
    for count in _chunks(total, max(1, _SQLITE_PARAMETERS // width)):
        chunk = flat[start * width:(start + count) * width]
        start += count
        # A column null in every row (a line's dates, mostly) is written as the literal:
        # sqlite3 looks for an adapter for each None it binds, which costs ten times
        # binding a number. The same NULL is stored.
        nulls = tuple(i for i in range(width) if chunk[i::width].count(None) == count)
        if nulls:
            kept = [chunk[i::width] for i in range(width) if i not in nulls]
            chunk = list(chain.from_iterable(zip(*kept)))
        connection.exec_driver_sql(sql + _values(width, count, nulls), tuple(chunk))


def _chunks(total: int, most: int) -> list[int]:
    """Rows per statement: *most* at a time, then the rest as powers of two.

    sqlite3 reuses a prepared statement only for the same text, and a statement of any
    other length would be parsed anew in nearly every batch (a few hundred markers cost
    more to parse than to run); these few lengths stay prepared.
    """
    counts = [most] * (total // most)
    rest = total % most
    while rest:
        counts.append(1 << (rest.bit_length() - 1))
        rest -= counts[-1]
    return counts


@lru_cache(maxsize=256)
def _values(width: int, count: int, nulls: tuple = ()) -> str:
    row = f"({', '.join('NULL' if i in nulls else '?' for i in range(width))})"
    return ", ".join(row for _ in range(count))


def _copy(connection, sql: str, rows) -> None:
    dbapi = connection.dialect.loaded_dbapi
    try:
        with connection.connection.driver_connection.cursor() as cursor:
            with cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
    except dbapi.Error as exc:
        # A lost connection needs nothing more here: the pool pings before reuse.
        raise DBAPIError.instance(sql, None, exc, dbapi.Error,
                                  dialect=connection.dialect) from exc


def _convert(process, column: list, memo: bool) -> list:
    if not memo:
        # JSON: mostly nulls (an applied update's activity has no errors), dumped once.
        null = process(None)
        return [null if value is None else process(value) for value in column]
    # A batch repeats few distinct times and dates (its "now", an update's occurred_at):
    # each distinct value is converted once, and the column mapped in C.
    converted = {value: process(value) for value in set(column)}
    return list(map(converted.__getitem__, column))


@lru_cache(maxsize=64)
def _statement(dialect: Dialect, table: Table, columns: tuple, key) -> tuple[str, list]:
    """Render the statement and pick the (position, processor) pairs, once per shape."""
    marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    if marker is None:
        raise NotImplementedError(f"paramstyle {dialect.paramstyle!r}")
    quote = dialect.identifier_preparer.quote
    target = dialect.identifier_preparer.format_table(table)
    if key is None and dialect.name == "postgresql":
        sql = f"COPY {target} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    elif key is None and dialect.name == "sqlite":
        # The VALUES rows follow, as many as each statement carries (see _insert_many).
        sql = f"INSERT INTO {target} ({', '.join(quote(c) for c in columns)}) VALUES "
    elif key is None:
        sql = (f"INSERT INTO {target} ({', '.join(quote(c) for c in columns)}) "
               f"VALUES ({', '.join(marker for _ in columns)})")
    else:
        assignments = ", ".join(f"{quote(c)} = {marker}" for c in columns)
        sql = f"UPDATE {target} SET {assignments} WHERE {quote(key)} = {marker}"
    copy = key is None and dialect.name == "postgresql"
    processors = []
    for index, name in enumerate(columns + ((key,) if key else ())):
        column_type = table.c[name].type
        process = column_type.dialect_impl(dialect).bind_processor(dialect)
        if copy and _is_time(column_type):
            process = _copy_text(process)
        if process is not None:
            # JSON values (dicts) are unhashable, so not memoised.
            processors.append((index, process, not isinstance(column_type, JSON)))
    return sql, processors


def _is_time(column_type) -> bool:
    impl = column_type.impl if isinstance(column_type, TypeDecorator) else column_type
    return isinstance(impl, (DateTime, Date))


def _copy_text(process):
    """*process*, then the text psycopg would write into COPY for the value (``str``).

    psycopg formats a date or time anew for every row it is in, and a batch's rows repeat
    few distinct ones (its "now", each update's time in several tables): as a processor,
    each distinct value is formatted once (``_convert``), and psycopg copies the text.
    """
    if process is None:
        return lambda value: None if value is None else str(value)
    return lambda value: None if (value := process(value)) is None else str(value)
