"""On a SQLite database nobody ran ANALYZE on, every hot read uses the index meant for it.

SQLite plans from statistics when ``sqlite_stat1`` has them and from fixed guesses when it
does not, which is every new install. Each read below is run through the real service
function on a few thousand orders of one store (and some of another); the statements it
issued are captured and explained with the same arguments.
"""
from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from oss_server import create_app
from oss_server.extensions import db
from oss_server.services import accounts, order_search
from oss_server.services.lookup import lookup_order
from oss_server.storage import shop_pages

from ..conftest import TEST_FACTOR_KEY, _config
from .plans import accesses, apply_plan_batch, number, seed_orders, sqlite_plan, statements, zip_of

ORDERS, OTHER_ORDERS = 4000, 500
# Tables that grow with the orders: a read of them must find its rows, never walk them.
_LARGE = {"orders", "order_items", "tracking_numbers", "status_changes", "update_receipts",
          "activity"}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """An app on a new SQLite file with a store of ORDERS orders; never analyzed."""
    url = "sqlite:///" + str(tmp_path_factory.mktemp("plans") / "fresh.db")
    app = create_app(_config(url))
    with app.app_context():
        db.create_all()
        merchant = accounts.create_merchant(db.session, "plans@example.com",
                                            "correct horse battery",
                                            paid_through=date.today() + timedelta(days=30))
        store = accounts.create_store(db.session, merchant, "plans", "Plans")
        other = accounts.create_store(db.session, merchant, "other", "Other")
        db.session.commit()
        ids = (store.id, other.id)
        db.session.remove()
        with db.engine.begin() as conn:
            seed_orders(conn, ids[0], 1, ORDERS, TEST_FACTOR_KEY)
            seed_orders(conn, ids[1], ORDERS + 1, OTHER_ORDERS, TEST_FACTOR_KEY)
        yield app, ids
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(fresh):
    app, ids = fresh
    with app.app_context():
        yield ids
        db.session.rollback()
        db.session.remove()


def _unique_key_index(raw) -> str:
    """The name SQLite gave the unique (order_key, store_id) index of orders."""
    cursor = raw.cursor()
    for _seq, name, unique, *_rest in cursor.execute("PRAGMA index_list(orders)").fetchall():
        columns = [row[2] for row in raw.execute(f"PRAGMA index_info({name})").fetchall()]
        if unique and columns == ["order_key", "store_id"]:
            return name
    raise AssertionError("no unique (order_key, store_id) index on orders")


def _explained(seen) -> list[tuple[str, list[str], list[tuple[str, str, str]]]]:
    """(sql, plan, accesses) of each captured statement that reads a large table."""
    raw = db.engine.raw_connection()
    try:
        out = []
        for sql, args in seen:
            words = set(sql.replace('"', " ").replace("(", " ").replace(",", " ").split())
            if sql.lstrip().upper().startswith(("INSERT", "BEGIN", "PRAGMA")) or not words & _LARGE:
                continue
            plan = sqlite_plan(raw, sql, args)
            out.append((sql, plan, accesses(plan)))
        return out
    finally:
        raw.close()


def _assert_found_not_walked(explained) -> None:
    for sql, plan, found in explained:
        for how, table, _index in found:
            assert not (how == "SCAN" and table in _LARGE), f"{sql}\n{plan}"


def test_the_database_has_no_statistics(ctx):
    with db.engine.connect() as conn:
        stats = "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
        assert conn.scalar(text(stats)) == 0


def test_a_lookup_probes_the_order_and_cart_number_indexes(ctx, monkeypatch):
    store_id, _other = ctx
    store = db.session.get(accounts.Store, store_id)
    with statements(monkeypatch) as seen, db.engine.connect() as conn:
        by_order = lookup_order(conn, store, number(1234), zip_of(1234), TEST_FACTOR_KEY)
        by_cart = lookup_order(conn, store, f"W-{number(77)}", zip_of(77), TEST_FACTOR_KEY)
        missed = lookup_order(conn, store, "no-such-order", "10001", TEST_FACTOR_KEY)
    assert by_order is not None and by_cart is not None and missed is None
    raw = db.engine.raw_connection()
    try:
        intended = {_unique_key_index(raw), "ix_orders_store_cart_key"}
    finally:
        raw.close()
    explained = [e for e in _explained(seen) if "orders" in e[0]]
    assert len(explained) == 3
    for sql, plan, found in explained:
        on_orders = [(how, index) for how, table, index in found if table == "orders"]
        # One probe of each number's own index; not the store's orders by update time.
        assert on_orders and all(how == "SEARCH" and index in intended
                                 for how, index in on_orders), f"{sql}\n{plan}"


def test_the_status_page_reads_by_primary_key_and_order_id(ctx, monkeypatch):
    store_id, _other = ctx
    with db.engine.connect() as conn:
        order_id = conn.scalar(text("SELECT id FROM orders WHERE order_key = :k"),
                               {"k": number(2500).casefold()})
        with statements(monkeypatch) as seen:
            page = shop_pages.shop_store_page(conn, "plans", order_id)
            full = shop_pages.shopper_order(conn, store_id, order_id)
            assert shop_pages.shop_store(conn, "plans") is not None
    assert page.order is not None and full.items and full.tracking and full.history
    explained = _explained(seen)
    assert len(explained) >= 4
    _assert_found_not_walked(explained)
    for sql, plan, found in explained:
        for _how, table, index in found:
            if table == "orders":
                assert index == "PRIMARY KEY", f"{sql}\n{plan}"
            elif table in _LARGE:
                assert index == f"ix_{table}_order_id", f"{sql}\n{plan}"


def test_ingestion_reads_its_orders_receipts_and_lines_by_key(ctx, monkeypatch):
    store_id, _other = ctx
    seen = apply_plan_batch(monkeypatch, store_id, 3999)
    explained = _explained(seen)
    read_tables = {table for _sql, _plan, found in explained for _how, table, _index in found}
    assert {"orders", "order_items", "update_receipts"} <= read_tables
    _assert_found_not_walked(explained)
    for sql, plan, found in explained:
        for _how, _table, index in found:
            # Orders by their number within the store, or by id: never the update-time index.
            assert index != "ix_orders_store_updated", f"{sql}\n{plan}"
            assert index, f"{sql}\n{plan}"


@pytest.mark.parametrize("query, page", [("", 1), ("", 3), ("p0012", 1), ("pat", 2)])
def test_the_portal_lists_and_searches_newest_first_by_index(ctx, monkeypatch, query, page):
    store_id, _other = ctx
    store = db.session.get(accounts.Store, store_id)
    with statements(monkeypatch) as seen:
        found = order_search.search_orders(db.session, store, query, page)
    assert found.page == page
    explained = [e for e in _explained(seen) if "FROM orders" in e[0]]
    assert len(explained) == 1
    sql, plan, _found = explained[0]
    # The store's orders walked newest first along the index, stopping after one page:
    # no sort of all of them.
    assert any("USING INDEX ix_orders_store_updated (store_id=?)" in line for line in plan), plan
    assert not any("TEMP B-TREE" in line for line in plan), plan


def test_the_portal_order_page_reads_by_primary_key_and_order_id(ctx, monkeypatch):
    store_id, _other = ctx
    store = db.session.get(accounts.Store, store_id)
    order_id = db.session.scalar(text("SELECT id FROM orders WHERE order_key = :k"),
                                 {"k": number(42).casefold()})
    with statements(monkeypatch) as seen:
        order = order_search.get_order_by_id(db.session, store, order_id)
    assert order is not None and order.items and order.history
    explained = _explained(seen)
    assert len(explained) >= 4
    _assert_found_not_walked(explained)
    for sql, plan, found in explained:
        for _how, table, index in found:
            expected = "PRIMARY KEY" if table == "orders" else f"ix_{table}_order_id"
            assert index == expected, f"{sql}\n{plan}"


def test_statistics_change_none_of_these_plans(ctx, monkeypatch, tmp_path):
    # Why no `PRAGMA optimize`: once analyzed, SQLite reads the orders and their lines
    # for each of these exactly as before.
    store_id, _other = ctx
    store = db.session.get(accounts.Store, store_id)
    with statements(monkeypatch) as seen:
        with db.engine.connect() as conn:
            lookup_order(conn, store, number(5), zip_of(5), TEST_FACTOR_KEY)
            shop_pages.shop_store_page(conn, "plans", 5)
        order_search.search_orders(db.session, store, "p001", 2)
        order_search.get_order_by_id(db.session, store, 5)
    fresh = _explained(seen)
    raw = db.engine.raw_connection()
    try:
        analyzed = sqlite3.connect(tmp_path / "analyzed.db")
        raw.driver_connection.backup(analyzed)
    finally:
        raw.close()
    try:
        analyzed.execute("ANALYZE")
        assert analyzed.execute("SELECT count(*) FROM sqlite_stat1").fetchone()[0] > 0
        for sql, plan, found in fresh:
            args = next(a for s, a in seen if s == sql)
            now = accesses(sqlite_plan(analyzed, sql, args))
            # (The two-row stores table may be scanned instead, which costs nothing.)
            assert ([a for a in now if a[1] in _LARGE]
                    == [a for a in found if a[1] in _LARGE]), f"{sql}\n{plan}"
    finally:
        analyzed.close()
