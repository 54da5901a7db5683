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

On PostgreSQL an INSERT is a ``COPY … FROM STDIN`` instead: psycopg's executemany
sends one Bind/Execute per row and costs four times as much client CPU. COPY is
all-or-nothing like the INSERT and runs in the same transaction; it goes to the
driver directly (no cursor events), and its errors are wrapped as SQLAlchemy wraps
a statement's.
"""
from __future__ import annotations

from functools import lru_cache
from operator import itemgetter

from sqlalchemy import ARRAY, JSON, ColumnElement, Table, any_, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

__all__ = ["insert_rows", "one_of", "update_rows"]


def one_of(session: Session, column, values) -> ColumnElement[bool]:
    """``column IN values`` for a few hundred values, as cheap as the dialect allows.

    On PostgreSQL it is ``column = ANY(array)``: one parameter, where an expanded IN
    renders, casts and makes psycopg parse one placeholder per value (a long query
    psycopg does not cache), which costs more than the lookup itself.
    """
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(bindparam(None, values, expanding=True))


def insert_rows(session: Session, table: Table, rows: list[dict]) -> None:
    """INSERT *rows* (dicts with the same keys) into *table* in one executemany."""
    if rows:
        _run(session, table, rows, tuple(rows[0]), None)


def update_rows(session: Session, table: Table, rows: list[dict], key: str = "id") -> None:
    """UPDATE the rows of *table* whose *key* column equals each row's *key* value."""
    if rows:
        columns = tuple(name for name in rows[0] if name != key)
        _run(session, table, rows, columns, key)


def _run(session: Session, table: Table, rows: list[dict], columns: tuple, key) -> None:
    connection = session.connection()
    dialect = connection.dialect
    names = columns + ((key,) if key else ())
    sql, processors = _statement(dialect, table, columns, key)
    # Column-wise: one tuple per column, so a processor runs over a column at a time.
    pick = itemgetter(*names)
    values = list(zip(*map(pick, rows))) if len(names) > 1 else [tuple(map(pick, rows))]
    for index, process, memo in processors:
        values[index] = _convert(process, values[index], memo)
    if key is None and dialect.name == "postgresql":
        _copy(connection, sql, zip(*values))
    else:
        connection.exec_driver_sql(sql, list(zip(*values)))


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


def _convert(process, column: tuple, memo: bool) -> list:
    if not memo:
        return [process(value) for value in column]
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
    elif key is None:
        sql = (f"INSERT INTO {target} ({', '.join(quote(c) for c in columns)}) "
               f"VALUES ({', '.join(marker for _ in columns)})")
    else:
        assignments = ", ".join(f"{quote(c)} = {marker}" for c in columns)
        sql = f"UPDATE {target} SET {assignments} WHERE {quote(key)} = {marker}"
    processors = []
    for index, name in enumerate(columns + ((key,) if key else ())):
        column_type = table.c[name].type
        process = column_type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            # JSON values (dicts) are unhashable, so not memoised.
            processors.append((index, process, not isinstance(column_type, JSON)))
    return sql, processors
