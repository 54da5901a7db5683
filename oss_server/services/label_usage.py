"""Which status labels a store has received, and where they are in use now."""
from __future__ import annotations

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from ..models import Order, OrderItem, StatusChange, Store


def received_labels(session: Session, store: Store) -> list[tuple[str, int]]:
    """Return every label the store received (orders, items, history) with how many orders
    carry it now at order level, sorted by label."""
    in_store = select(Order.id).where(Order.store_id == store.id).scalar_subquery()
    names = union(
        select(Order.status.label("name")).where(Order.store_id == store.id),
        select(OrderItem.status).where(OrderItem.order_id.in_(in_store),
                                       OrderItem.status.is_not(None)),
        select(StatusChange.to_status).where(StatusChange.order_id.in_(in_store)),
        select(StatusChange.from_status).where(StatusChange.order_id.in_(in_store),
                                               StatusChange.from_status.is_not(None)),
    )
    labels = set(session.scalars(select(names.subquery().c.name)))
    labels.update((store.label_map or {}).keys())
    current = dict(session.execute(
        select(Order.status, func.count()).where(Order.store_id == store.id)
        .group_by(Order.status)).all())
    return [(label, current.get(label, 0)) for label in sorted(labels, key=str.casefold)]
