"""Declarative base with a naming convention so migrations stay stable."""
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, cast

from sqlalchemy import CursorResult, DateTime, MetaData, Result, Table, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Store naive UTC, hand back aware UTC: SQLite keeps no offsets, PostgreSQL agrees."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # SQLAlchemy types __table__ as any FromClause (a class may map a join or a select);
        # every model here is declared on a Table, which Core's insert/update/delete take.
        __table__: ClassVar[Table]


def rows_changed(result: Result[Any]) -> int:
    """Return how many rows an UPDATE or DELETE changed."""
    # Session.execute is typed as returning a Result; a DML statement's is a CursorResult.
    return cast("CursorResult[Any]", result).rowcount or 0
