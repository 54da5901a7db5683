"""Per-hour tallies kept as atomic upserts (the dialects spell ON CONFLICT differently)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite

from ..models import ApiRefusal
from . import DbSession


def add_refusal(session: DbSession, store_id: int, hour: datetime, cause: str, key_id: str) -> None:
    """Add one refused request to the store's tally for *hour*, *cause* and *key_id*."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = ApiRefusal.__table__
    statement = dialect.insert(table).values(store_id=store_id, hour=hour, cause=cause,
                                             key_id=key_id, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.store_id, table.c.hour, table.c.cause, table.c.key_id],
        set_={"count": table.c.count + 1})
    session.execute(statement)
