"""Fixed SELECTs run on the driver's own cursor, their values converted as Core would.

On the busiest reads of the service (the shopper pages) SQLAlchemy Core spends far more
per statement on its execution context, result metadata and row objects than the driver
takes (docs/performance.md, "Figures behind the storage code"). A statement whose shape
never changes can skip that layer: it is compiled once per dialect, run with parameters
in the driver's own style (``?`` for sqlite3, ``%(name)s`` for psycopg), and each column
goes through the result processor of its SQLAlchemy type, so dates parsed from SQLite's
text, JSON and aware UTC times come back exactly as they would through Core.

Parameters must be plain values the driver takes as they are (ints, strings).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError, InvalidRequestError
from sqlalchemy.sql import CompoundSelect, Select

R = TypeVar("R", bound=NamedTuple)


class _Compiled(NamedTuple):
    sql: str
    names: list[str] | None  # parameter order for positional drivers; None: by name
    processors: Sequence[Callable[[Any], Any] | None]


class FixedRead(Generic[R]):
    """One SELECT whose rows come back as *row_type* (a NamedTuple of its columns)."""

    def __init__(self, statement: Select[Any] | CompoundSelect[Any], row_type: type[R]):
        columns = [column.key for column in statement.selected_columns]
        if columns != list(row_type._fields):
            raise ValueError(f"{row_type.__name__} fields {row_type._fields} != {columns}")
        self.statement, self.row_type = statement, row_type
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def all(self, conn: Connection, **params: Any) -> list[R]:
        """Run the statement on *conn*'s connection and return every row."""
        compiled = self._for(conn.dialect)
        args: Mapping[str, Any] | list[Any] = (
            params if compiled.names is None else [params[n] for n in compiled.names])
        rows = driver_execute(conn, compiled.sql, args, fetch=True, hide_parameters=False)
        make = self.row_type._make
        if not any(compiled.processors):
            return [make(row) for row in rows]
        processors = compiled.processors
        return [make([value if convert is None or value is None else convert(value)
                      for convert, value in zip(processors, row)]) for row in rows]

    def first(self, conn: Connection, **params: Any) -> R | None:
        """Return the first row, or None."""
        rows = self.all(conn, **params)
        return rows[0] if rows else None

    def _for(self, dialect: Dialect) -> _Compiled:
        key = (dialect.name, dialect.driver)
        compiled = self._compiled.get(key)
        if compiled is None:
            statement = self.statement.compile(dialect=dialect)
            names = list(statement.positiontup or []) if dialect.positional else None
            processors = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                          for column in self.statement.selected_columns]
            compiled = self._compiled[key] = _Compiled(statement.string, names, processors)
        return compiled


@contextmanager
def core_errors(conn: Connection, sql: str, args, cursor=None, hide_parameters: bool = False):
    """Raise a driver error of the block as Core raises a statement's, and act on it alike.

    Statements run on the driver's cursor bypass Core's error handling: its
    :class:`DBAPIError` (which the error pages answer with 503) and its check for a lost
    connection. A connection the database cut is invalidated here as Core would, so the
    pool replaces it instead of handing the dead one to the next request.
    """
    dbapi = conn.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as exc:
        lost = conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
        if lost:
            conn.invalidate(exc)
        raise DBAPIError.instance(sql, args, exc, dbapi.Error, hide_parameters=hide_parameters,
                                  connection_invalidated=lost, dialect=conn.dialect) from exc


def driver_execute(conn: Connection, sql: str, args: Sequence[Any] | Mapping[str, Any],
                   fetch: bool = False, hide_parameters: bool = True) -> Sequence[Any]:
    """Run *sql* on *conn*'s DBAPI cursor, in the transaction *conn* has open.

    Errors raise as Core raises a statement's (a :class:`DBAPIError`, the error pages'
    503 for an unreachable database), by default without the parameters: factor hashes
    and bucket keys stay out of logs. A lost connection is invalidated, as Core would.
    """
    cursor = conn.connection.cursor()
    try:
        with core_errors(conn, sql, args, cursor, hide_parameters=hide_parameters):
            cursor.execute(sql, args)
            return cursor.fetchall() if fetch else []
    finally:
        cursor.close()


def driver_connection(conn: Connection) -> Any:
    """The driver's own connection (sqlite3's or psycopg's) under *conn*."""
    driver = conn.connection.driver_connection
    if driver is None:  # the pooled connection was closed under *conn*
        raise InvalidRequestError("the connection's driver connection is closed")
    return driver


def driver_mark(dialect: Dialect) -> str:
    """The driver's positional parameter marker: ``?`` for sqlite3, ``%s`` for psycopg."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


def bind_processor(type_, dialect: Dialect) -> Callable:
    """The column type's own conversion of a value for *dialect* (identity when none)."""
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    return process or (lambda value: value)
