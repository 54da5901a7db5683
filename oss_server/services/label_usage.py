"""Which status labels a store has received, and where they are in use now."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, distinct, func, select, union

from ..models import Order, OrderItem, StatusChange, Store
from ..storage import DbSession
from .standard_labels import STANDARD_LABELS, standard_label


def received_labels(session: DbSession, store: Store) -> list[tuple[str, int]]:
    """Return every label the store received (orders, items, history) with how many orders
    carry it now at order level, sorted by label."""
    in_store = select(Order.id).where(Order.of_store(store.id)).scalar_subquery()
    names: CompoundSelect[Any] = union(
        select(Order.status.label("name")).where(Order.of_store(store.id)),
        select(OrderItem.status).where(OrderItem.order_id.in_(in_store),
                                       OrderItem.status.is_not(None)),
        select(StatusChange.to_status).where(StatusChange.order_id.in_(in_store)),
        select(StatusChange.from_status).where(StatusChange.order_id.in_(in_store),
                                               StatusChange.from_status.is_not(None)),
    )
    labels = set(session.scalars(select(names.subquery().c.name)))
    labels.update((store.label_map or {}).keys())
    current = dict(session.execute(
        select(Order.status, func.count()).where(Order.of_store(store.id))
        .group_by(Order.status)).all())
    return [(label, current.get(label, 0)) for label in sorted(labels, key=str.casefold)]


@dataclass(frozen=True)
class LabelUse:
    """One label of the labels page: where it is in use now, and where it comes from."""

    label: str
    orders: int       # orders carrying it now, as their status or on any item
    item_orders: int  # of those, orders with an item carrying it
    received: bool    # sent by the order manager at some time (or given a wording)
    standard: bool    # one of the client's default labels


def label_uses(session: DbSession, store: Store) -> list[LabelUse]:
    """Return the standard labels and every label received, with their use now, by name.

    A standard label received in another case ("item shipped") is listed once, as received.
    """
    in_store = select(Order.id).where(Order.of_store(store.id)).scalar_subquery()
    item_rows = select(OrderItem.status.label("name"), OrderItem.order_id.label("order_id")) \
        .where(OrderItem.order_id.in_(in_store), OrderItem.status.is_not(None))
    carried = union(select(Order.status.label("name"), Order.id.label("order_id"))
                    .where(Order.of_store(store.id)), item_rows).subquery()
    orders: dict[str, int] = dict(session.execute(select(carried.c.name, func.count())
                                  .group_by(carried.c.name)).all())
    items = item_rows.subquery()
    item_orders: dict[str, int] = dict(session.execute(
        select(items.c.name, func.count(distinct(items.c.order_id))).group_by(items.c.name)).all())
    received = [label for label, _count in received_labels(session, store)]
    seen = {standard_label(label) or label for label in received}
    names = received + [label for label in STANDARD_LABELS if label not in seen]
    return [LabelUse(label, orders.get(label, 0), item_orders.get(label, 0),
                     label in received, standard_label(label) is not None)
            for label in sorted(names, key=str.casefold)]
