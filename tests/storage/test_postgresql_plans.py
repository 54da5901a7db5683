"""On PostgreSQL, a lookup probes one index per number, in custom and generic plans alike.

The statement is captured while the real lookup runs and explained with its arguments,
as a custom plan and as the generic plan a prepared statement may keep for a
connection's life, once the table's statistics know the store's size. Before any
ANALYZE, at a few thousand orders, PostgreSQL guesses the store holds about one row and
rates its three indexes that lead with ``store_id`` alike: which one it takes is a tie,
cheap at that size, and not asserted (docs/performance.md).
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from oss_server.services.lookup import lookup_order
from oss_server.storage.shop_pages import shop_store_page

from ..conftest import TEST_FACTOR_KEY
from .plans import number, seed_orders, statements, zip_of

ORDERS = 3000


@pytest.fixture
def stores(app, session, make_store):
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        pytest.skip("PostgreSQL plans (OSS_TEST_DATABASE_URL names a PostgreSQL database)")
    store, other = make_store(), make_store()
    conn = session.connection()
    seed_orders(conn, store.id, 1, ORDERS, TEST_FACTOR_KEY)
    seed_orders(conn, other.id, ORDERS + 1, 300, TEST_FACTOR_KEY)
    session.commit()
    session.execute(text("ANALYZE orders"))
    session.commit()
    return store, other


def _explain(session, sql: str, args, generic: bool = False) -> str:
    if not generic:
        cursor = session.connection().connection.cursor()
        try:
            cursor.execute("EXPLAIN " + sql, args)
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.close()
    if isinstance(args, dict):  # the shopper pages' reads name their parameters
        names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", sql)))
        numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", sql)
        args = [args[name] for name in names]
    else:
        markers = iter(range(1, len(args) + 1))
        numbered = re.sub(r"%s", lambda _m: f"${next(markers)}", sql)
    types = ", ".join("int" if isinstance(arg, int) else "text" for arg in args)
    # The test's own numbers and keys, written out as literals.
    assert all(isinstance(arg, int) or re.fullmatch(r"[\w-]+", arg) for arg in args)
    values = ", ".join(str(arg) if isinstance(arg, int) else f"'{arg}'" for arg in args)
    session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
    session.execute(text(f"PREPARE plan_probe({types}) AS {numbered}"))
    try:
        return "\n".join(session.execute(text(f"EXPLAIN EXECUTE plan_probe({values})")).scalars())
    finally:
        session.execute(text("DEALLOCATE plan_probe"))


def test_a_lookup_probes_its_two_indexes(stores, session, monkeypatch):
    store, _other = stores
    conn = session.connection()
    with statements(monkeypatch) as seen:
        found = lookup_order(conn, store, number(1234), zip_of(1234), TEST_FACTOR_KEY)
    assert found is not None
    [(sql, args)] = [(s, a) for s, a in seen if "FROM orders" in s]
    for generic in (False, True):
        plan = _explain(session, sql, args, generic)
        assert "uq_orders_store_order_key" in plan, plan
        assert "ix_orders_store_cart_key" in plan, plan
        assert "Seq Scan on orders" not in plan and "ix_orders_store_updated" not in plan, plan
    session.rollback()


def test_the_status_page_reads_the_order_by_its_key(stores, session, monkeypatch):
    store, _other = stores
    conn = session.connection()
    order_id = lookup_order(conn, store, number(99), zip_of(99), TEST_FACTOR_KEY).id
    with statements(monkeypatch) as seen:
        page = shop_store_page(conn, store.slug, order_id)
    assert page.order is not None
    [(sql, args)] = [(s, a) for s, a in seen if "orders" in s]
    for generic in (False, True):
        plan = _explain(session, sql, args, generic)
        assert "pk_orders" in plan and "Seq Scan on orders" not in plan, plan
    session.rollback()
