"""On PostgreSQL every hot read uses the index meant for it, before and after ANALYZE.

A new install's tables have no statistics until autovacuum (or someone) analyzes them.
PostgreSQL then guesses the table's size from its pages and that ``store_id = ?`` holds
half a percent of it: at a few thousand orders, about one row, as cheap as a unique probe.
Every index that could serve a read then tied, and the first one met won. Each read below
is run through the real service function on a fresh schema of a few thousand orders of
one store (and some of another), never analyzed, then on another once analyzed; the
statements it issued are captured at the cursor and explained with the same arguments,
as a custom plan and as the generic plan a prepared statement may keep for a
connection's life (not for those run unprepared, which are planned at every run).
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import psycopg
import pytest
from psycopg import sql as pg_sql
from sqlalchemy import text
from sqlalchemy.engine import make_url

from oss_server import create_app
from oss_server.extensions import db
from oss_server.models import Base, UpdateReceipt
from oss_server.services import accounts, order_search
from oss_server.services.lookup import lookup_order
from oss_server.storage import shop_pages

from ..conftest import TEST_FACTOR_KEY, _config
from .plans import WHEN, apply_plan_batch, number, seed_orders, statements, zip_of

ORDERS, OTHER_ORDERS = 3000, 300
# Tables that grow with the orders: a read of them must find its rows, never walk them.
_LARGE = {"orders", "order_items", "tracking_numbers", "status_changes", "update_receipts",
          "activity"}
_NUMBERS = {"uq_orders_store_order_key", "ix_orders_store_cart_key"}
_SCAN = re.compile(r"(Seq Scan|Index Scan|Index Only Scan|Bitmap Index Scan|Bitmap Heap Scan)"
                   r"(?: Backward)?(?: using (\w+))? on (\w+)")


@pytest.fixture(scope="module", params=["never analyzed", "analyzed"])
def fresh(request, database_url):
    """An app on a new schema with a store of ORDERS orders; analyzed or never."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL plans (OSS_TEST_DATABASE_URL names a PostgreSQL database)")
    analyzed = request.param == "analyzed"
    schema = "plans_analyzed" if analyzed else "plans_fresh"
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    app = create_app(_config(url.render_as_string(hide_password=False)))
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        db.create_all()
        with db.engine.begin() as conn:
            # Autovacuum (where on) would analyze the orders once loaded: not in this one.
            for table in Base.metadata.sorted_tables:
                conn.execute(text(f"ALTER TABLE {table.name} SET (autovacuum_enabled = off)"))
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
            # The receipts of the updates that wrote them, as the orders grew.
            conn.execute(UpdateReceipt.__table__.insert(), [
                {"store_id": ids[0] if serial <= ORDERS else ids[1],
                 "update_id": f"u-{serial}", "outcome": "applied", "received_at": WHEN}
                for serial in range(1, ORDERS + OTHER_ORDERS + 1)])
            if analyzed:
                conn.execute(text("ANALYZE"))
        try:
            yield app, ids, analyzed
        finally:
            db.session.remove()
            with db.engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            db.engine.dispose()


@pytest.fixture
def ctx(fresh):
    app, ids, _analyzed = fresh
    with app.app_context():
        yield ids
        db.session.rollback()
        db.session.remove()


def _explain(cursor, sql: str, args, generic: bool) -> list[str]:
    if not generic:
        cursor.execute("EXPLAIN " + sql, args)
        return [row[0] for row in cursor.fetchall()]
    if isinstance(args, dict):  # the ORM's and the shopper pages' reads name parameters
        names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", sql)))
        numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", sql)
        args = [args[name] for name in names]
    else:
        markers = iter(range(1, len(args) + 1))
        numbered = re.sub(r"%s", lambda _m: f"${next(markers)}", sql)
    values = ", ".join(pg_sql.Literal(arg).as_string(cursor.connection) for arg in args)
    cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    cursor.execute("PREPARE plan_probe AS " + numbered.replace("%%", "%"))
    try:
        cursor.execute(f"EXPLAIN EXECUTE plan_probe({values})")
        return [row[0] for row in cursor.fetchall()]
    finally:
        cursor.execute("DEALLOCATE plan_probe")


def _explained(seen, tables=_LARGE) -> list[tuple[str, list[str]]]:
    """(sql, plan) of each plan of each captured statement that reads one of *tables*.

    Generic plans only of reads that may be prepared: a batch's writes name their rows
    by id, planned for their own values.
    """
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        out = []
        for sql, args in seen:
            words = set(re.split(r"[\s\"(),.]+", sql))
            if sql.lstrip().upper().startswith(("INSERT", "SAVEPOINT", "RELEASE")) \
                    or not words & tables:
                continue
            prepared = sql not in seen.unprepared and sql.lstrip().startswith("SELECT")
            kinds = (False, True) if prepared else (False,)
            out += [(sql, _explain(cursor, sql, args, generic)) for generic in kinds]
        raw.rollback()
        return out
    finally:
        raw.close()


def _used(plan: list[str]) -> tuple[set[str], set[str]]:
    """The indexes a plan reads, and the tables it scans whole."""
    indexes, walked = set(), set()
    for line in plan:
        for kind, index, name in _SCAN.findall(line):
            if kind == "Seq Scan":
                walked.add(name)
            elif kind == "Bitmap Index Scan":
                indexes.add(name)
            elif index:
                indexes.add(index)
    return indexes, walked


def _on_orders(indexes: set[str]) -> set[str]:
    return {index for index in indexes if index == "pk_orders" or "_orders_" in index}


def _assert_found_not_walked(explained) -> None:
    for sql, plan in explained:
        _indexes, walked = _used(plan)
        assert not walked & _LARGE, f"{sql}\n" + "\n".join(plan)


def test_the_schema_has_statistics_only_once_analyzed(fresh, ctx):
    _app, _ids, analyzed = fresh
    with db.engine.connect() as conn:
        tuples = conn.scalar(text("SELECT reltuples FROM pg_class WHERE oid = 'orders'::regclass"))
        stats = conn.scalar(text("SELECT count(*) FROM pg_stats WHERE tablename = 'orders'"
                                 " AND schemaname = current_schema()"))
    assert (tuples > 0 and stats > 0) if analyzed else (tuples == -1 and stats == 0)


def test_a_lookup_probes_the_order_and_cart_number_indexes(ctx, monkeypatch):
    store_id, _other = ctx
    store = db.session.get(accounts.Store, store_id)
    with statements(monkeypatch) as seen, db.engine.connect() as conn:
        by_order = lookup_order(conn, store, number(1234), zip_of(1234), TEST_FACTOR_KEY)
        by_cart = lookup_order(conn, store, f"W-{number(77)}", zip_of(77), TEST_FACTOR_KEY)
        missed = lookup_order(conn, store, "no-such-order", "10001", TEST_FACTOR_KEY)
    assert by_order is not None and by_cart is not None and missed is None
    explained = _explained(seen, {"orders"})
    assert len(explained) == 6  # three lookups, custom and generic
    for sql, plan in explained:
        indexes, walked = _used(plan)
        # One probe of each number's own index; not the store's orders by update time.
        assert _on_orders(indexes) == _NUMBERS and not walked, f"{sql}\n" + "\n".join(plan)


def test_the_status_page_reads_by_primary_key_and_order_id(ctx, monkeypatch):
    store_id, _other = ctx
    with db.engine.connect() as conn:
        order_id = conn.scalar(text("SELECT id FROM orders WHERE order_key = :k"),
                               {"k": number(2500).casefold()})
        with statements(monkeypatch) as seen:
            page = shop_pages.shop_store_page(conn, "plans", order_id)
            full = shop_pages.shopper_order(conn, store_id, order_id)
    assert page.order is not None and full.items and full.tracking and full.history
    explained = _explained(seen)
    assert len(explained) == 6  # the page, the order, its lines
    _assert_found_not_walked(explained)
    for sql, plan in explained:
        indexes, _walked = _used(plan)
        expected = ({"pk_orders"} if "FROM orders" in sql or "JOIN orders" in sql else
                    {f"ix_{t}_order_id" for t in ("order_items", "tracking_numbers",
                                                  "status_changes")})
        assert _on_orders(indexes) <= {"pk_orders"}, f"{sql}\n" + "\n".join(plan)
        assert indexes & expected, f"{sql}\n" + "\n".join(plan)


def test_ingestion_reads_its_orders_receipts_and_lines_by_key(ctx, monkeypatch):
    store_id, _other = ctx
    seen = apply_plan_batch(monkeypatch, store_id, 2999)
    explained = _explained(seen)
    used = set().union(*(_used(plan)[0] for _sql, plan in explained))
    assert {"uq_orders_store_order_key", "pk_update_receipts",
            "ix_order_items_order_id", "pk_orders"} <= used
    _assert_found_not_walked(explained)
    for sql, plan in explained:
        # Orders by their number within the store, or by id: never by update time or
        # cart number.
        indexes, _walked = _used(plan)
        assert _on_orders(indexes) <= {"uq_orders_store_order_key", "pk_orders"}, \
            f"{sql}\n" + "\n".join(plan)


@pytest.mark.parametrize("query, page", [("", 1), ("", 3), ("p0012", 1), ("pat", 2)])
def test_the_portal_lists_and_searches_newest_first_by_index(ctx, monkeypatch, query, page):
    store_id, _other = ctx
    store = db.session.get(accounts.Store, store_id)
    with statements(monkeypatch) as seen:
        found = order_search.search_orders(db.session, store, query, page)
    assert found.page == page
    explained = [e for e in _explained(seen) if "FROM orders" in e[0]]
    assert len(explained) == 2
    for _sql, plan in explained:
        # The store's orders walked newest first along the index, stopping after one
        # page: no sort of all of them.
        assert any("Index Scan Backward using ix_orders_store_updated" in line
                   for line in plan), "\n".join(plan)
        assert not any("Sort" in line or "Seq Scan" in line for line in plan), "\n".join(plan)


def test_the_portal_order_page_reads_by_primary_key_and_order_id(ctx, monkeypatch):
    store_id, _other = ctx
    store = db.session.get(accounts.Store, store_id)
    order_id = db.session.scalar(text("SELECT id FROM orders WHERE order_key = :k"),
                                 {"k": number(42).casefold()})
    with statements(monkeypatch) as seen:
        order = order_search.get_order_by_id(db.session, store, order_id)
    assert order is not None and order.items and order.history
    explained = _explained(seen)
    assert len(explained) == 8  # the order, its items, tracking and history
    _assert_found_not_walked(explained)
    for sql, plan in explained:
        indexes, _walked = _used(plan)
        table = re.search(r"FROM (\w+)", sql).group(1)
        expected = "pk_orders" if table == "orders" else f"ix_{table}_order_id"
        assert indexes == {expected}, f"{sql}\n" + "\n".join(plan)


def test_a_lookup_reads_one_order_row_per_number(ctx):
    # What the plans above mean at run time: the order number's probe reads its row only.
    store_id, _other = ctx
    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert isinstance(raw, psycopg.Connection)
        rows = raw.execute(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT id FROM orders"
            " WHERE store_id = %s AND order_key = %s", [store_id, number(1234).casefold()]
        ).fetchall()
    plan = [row[0] for row in rows]
    assert "uq_orders_store_order_key" in plan[0] and "rows=1 " in plan[0], plan
    assert not any("Rows Removed by Filter" in line for line in plan), plan
