"""Reading and erasing stored orders."""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from ..models import Order, OrderItem, StatusChange, Store, Tracking
from ..models.base import rows_changed
from ..storage import DbSession


def order_key(number: str) -> str:
    """Normalise an order number the way shoppers' typing is compared: trimmed, case-folded."""
    return number.strip().casefold()


def get_order(session: DbSession, store: Store, number: str) -> Order | None:
    """Return the store's order by its number, with lines, tracking and history."""
    return session.scalar(
        select(Order)
        .where(Order.store_id == store.id, Order.order_key == order_key(number))
        .options(selectinload(Order.items), selectinload(Order.tracking),
                 selectinload(Order.history))
    )


def delete_orders_where(session: DbSession, *criteria) -> int:
    """Delete orders matching *criteria* with their children; return how many."""
    ids = select(Order.id).where(*criteria).scalar_subquery()
    # Children first and explicitly: SQLite only cascades with foreign keys on.
    for child in (OrderItem, Tracking, StatusChange):
        session.execute(delete(child).where(child.order_id.in_(ids))
                        .execution_options(synchronize_session=False))
    result = session.execute(delete(Order).where(*criteria)
                             .execution_options(synchronize_session=False))
    return rows_changed(result)


def delete_order(session: DbSession, store: Store, number: str) -> bool:
    """Erase one order and its history; False when the store has no such order."""
    count = delete_orders_where(session, Order.store_id == store.id,
                                Order.order_key == order_key(number))
    session.flush()
    return count > 0
