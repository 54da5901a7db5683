"""How the service's data is stored: the only package that knows SQL text, dialects,
driver cursors and connection pools.

Services call the functions here by what they do for the domain (read the batch's
stored orders, write its snapshots, lock for a batch, count a lookup) and keep the rules;
views never reach a connection. The fast paths here run fixed statements on the driver's
own cursor and convert values as SQLAlchemy Core would: the read and write side of the
hot requests, documented in docs/performance.md.
"""
from typing import Any, TypeAlias

from sqlalchemy.orm import Session, scoped_session

# What services and storage take as "the session": a Session, or a scoped_session that
# forwards every call to its current one -- Flask-SQLAlchemy's ``db.session``, which the
# views and commands pass. Any session class: Flask-SQLAlchemy's is a Session subclass.
DbSession: TypeAlias = Session | scoped_session[Any]
