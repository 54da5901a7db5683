"""Finding a store's orders for the merchant: by order or cart number, or by name."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..models import Order, Store
from ..models.order_fields import SEARCHED_COLUMNS
from ..schemas.fields import is_row_id
from ..storage import DbSession
from .orders import delete_orders_where, order_key

PAGE_SIZE = 50
# Numbers are matched by their case-folded keys; these fields (names) as lower-cased.
_SEARCHED_NAMES = tuple(Order.__table__.c[name] for name in SEARCHED_COLUMNS)
# Past this, a page number (from a URL) is empty anyway; bounded so that its OFFSET fits
# a 64-bit integer (SQLite's driver cannot bind a larger one).
MAX_PAGE = 1_000_000


def _contains(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class OrderPage:
    """One page of search results, latest update first."""

    orders: list[Order]
    page: int
    has_more: bool


def search_orders(session: DbSession, store: Store, query: str | None,
                  page: int = 1) -> OrderPage:
    """Return page *page* (from 1) of the store's orders matching *query* (all when empty)."""
    page_size = PAGE_SIZE
    statement = select(Order).where(Order.of_store(store.id))
    text = (query or "").strip().casefold()
    if text:
        pattern = _contains(text[:200])
        statement = statement.where(or_(
            Order.order_key.like(pattern, escape="\\"),
            Order.cart_key.like(pattern, escape="\\"),
            *(func.lower(column).like(pattern, escape="\\") for column in _SEARCHED_NAMES),
        ))
    page = min(max(1, page), MAX_PAGE)
    # One row past the page tells whether an older page exists, without a COUNT.
    rows = list(session.scalars(statement.order_by(Order.updated_at.desc(), Order.id.desc())
                                .offset((page - 1) * page_size).limit(page_size + 1)))
    return OrderPage(rows[:page_size], page, len(rows) > page_size)


def get_order_by_id(session: DbSession, store: Store, order_id: int) -> Order | None:
    """Return one of the store's orders by id, with lines, tracking and history."""
    if not is_row_id(order_id):
        return None
    return session.scalar(
        select(Order).where(Order.store_id == store.id, Order.id == order_id)
        .options(selectinload(Order.items), selectinload(Order.tracking),
                 selectinload(Order.history)))


def factors_on_file(order: Order) -> list[str]:
    """Name the verification factors held for *order*, never their values."""
    held = [("Billing ZIP/postal code", order.zip_hash), ("Email", order.email_hash),
            ("Phone", order.phone_hash)]
    return [name for name, value in held if value]


def delete_order_by_id(session: DbSession, store: Store, order_id: int) -> bool:
    """Erase one of the store's orders with its history; False when it has no such order."""
    if not is_row_id(order_id):
        return False
    count = delete_orders_where(session, Order.store_id == store.id, Order.id == order_id)
    session.flush()
    return count > 0


def order_ids_by_number(session: DbSession, store: Store, numbers) -> dict[str, int]:
    """Map those of *numbers* the store holds an order for to the order's id."""
    keys = {order_key(number): number for number in numbers if number}
    if not keys:
        return {}
    rows = session.execute(select(Order.order_key, Order.id).where(
        Order.store_id == store.id, Order.order_key.in_(list(keys))))
    return {keys[key]: order_id for key, order_id in rows}
