"""Bulk writes store rows exactly as Core does, and fail the way Core fails."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from oss_server.models import Activity, Order, UpdateReceipt
from oss_server.storage.bulk_writes import delete_rows, insert_rows, one_of, update_rows

WHEN = datetime(2026, 3, 1, 9, 30, 15, 250000, tzinfo=timezone(timedelta(hours=-5)))


def _order(store, number: str, **changes) -> dict:
    row = {"store_id": store.id, "order_number": number, "order_key": number.lower(),
           "status": "Paid", "occurred_at": WHEN, "sequence": 1, "last_update_id": "u",
           "created_at": WHEN, "updated_at": WHEN, "expected_ship_date": date(2026, 3, 4)}
    return {**row, **changes}


def _stored(session, table: str, column: str):
    return session.execute(text(f"SELECT {column} FROM {table} ORDER BY id")).scalars().all()


@pytest.mark.parametrize("column", ["occurred_at", "expected_ship_date", "sequence"])
def test_insert_stores_the_same_values_as_core(session, make_store, column):
    store = make_store()
    session.execute(insert(Order.__table__), [_order(store, "CORE-1")])
    insert_rows(session, Order.__table__, [_order(store, "BULK-1")])
    core, bulk = _stored(session, "orders", column)
    assert core == bulk


def test_json_and_null_values_match_core(session, make_store):
    store = make_store()
    rows = [{"store_id": store.id, "outcome": "rejected", "received_at": WHEN,
             "errors": errors, "update_id": None, "order_number": None, "event": None}
            for errors in (None, {"order.status": "Missing data for required field."})]
    session.execute(insert(Activity.__table__), rows)
    insert_rows(session, Activity.__table__, rows)
    stored = _stored(session, "activity", "errors")
    assert stored[:2] == stored[2:]
    assert [a.errors for a in session.scalars(select(Activity).order_by(Activity.id))][2:] == \
        [None, {"order.status": "Missing data for required field."}]


def test_update_rows_sets_columns_by_id(session, make_store):
    store = make_store()
    insert_rows(session, Order.__table__, [_order(store, "A"), _order(store, "B")])
    ids = dict(session.execute(select(Order.order_key, Order.id)).all())
    later = WHEN + timedelta(days=1)
    update_rows(session, Order.__table__, [{"id": ids["b"], "status": "Shipped",
                                           "occurred_at": later}])
    rows = session.execute(select(Order.order_key, Order.status, Order.occurred_at)
                           .order_by(Order.order_key)).all()
    assert [(k, s, t) for k, s, t in rows] == [("a", "Paid", WHEN), ("b", "Shipped", later)]


def test_a_duplicate_key_is_an_integrity_error(session, make_store):
    # A racing worker surfaces here; the API retries the batch on exactly this exception.
    store = make_store()
    receipt = {"store_id": store.id, "update_id": "u-1", "outcome": "applied",
               "received_at": WHEN}
    insert_rows(session, UpdateReceipt.__table__, [receipt])
    with pytest.raises(IntegrityError):
        insert_rows(session, UpdateReceipt.__table__, [receipt])
    session.rollback()


def test_one_of_matches_like_in(session, make_store):
    store = make_store()
    insert_rows(session, Order.__table__, [_order(store, n) for n in ("A", "B", "C")])
    keys = session.scalars(select(Order.order_key).where(one_of(session, Order.order_key,
                                                                 {"a", "c", "zz"}))).all()
    assert sorted(keys) == ["a", "c"]


def test_update_rows_stores_the_same_values_as_core(session, make_store):
    # Nulls, dates, times and strings, over several rows in one call.
    store = make_store()
    insert_rows(session, Order.__table__, [_order(store, n) for n in ("A", "B", "C", "D")])
    ids = dict(session.execute(select(Order.order_key, Order.id)).all())
    later = WHEN + timedelta(hours=7)
    changes = [{"status": "Shipped", "occurred_at": later, "sequence": 2,
                "expected_ship_date": None, "actual_ship_date": date(2026, 3, 5),
                "email": None},
               {"status": "Packed", "occurred_at": later, "sequence": 7,
                "expected_ship_date": date(2026, 3, 9), "actual_ship_date": None,
                "email": "pat@example.com"}]
    for key, change in zip("ab", changes):
        session.execute(Order.__table__.update().where(Order.id == ids[key]), change)
    update_rows(session, Order.__table__,
                [{**change, "id": ids[key]} for key, change in zip("cd", changes)])
    columns = "status, occurred_at, sequence, expected_ship_date, actual_ship_date, email"
    core_a, core_b, bulk_c, bulk_d = session.execute(
        text(f"SELECT {columns} FROM orders ORDER BY order_key")).all()
    assert (core_a, core_b) == (bulk_c, bulk_d)



def test_delete_rows_removes_only_the_rows_named(session, make_store):
    store = make_store()
    insert_rows(session, Order.__table__, [_order(store, n) for n in ("A", "B", "C")])
    ids = dict(session.execute(select(Order.order_key, Order.id)).all())
    delete_rows(session, Order.__table__, "id", [ids["a"], ids["c"], ids["c"] + 1000])
    assert session.scalars(select(Order.order_key)).all() == ["b"]


def test_a_multi_row_insert_keeps_the_rows_in_order(session, make_store):
    # More rows than one SQLite statement carries: ids follow the order given.
    store = make_store()
    numbers = [f"N{i:04d}" for i in range(500)]
    insert_rows(session, Order.__table__, [_order(store, n) for n in numbers])
    stored = session.scalars(select(Order.order_number).order_by(Order.id)).all()
    assert stored == numbers


def test_null_columns_and_partly_null_columns_store_nulls(session, make_store):
    # A column null in every row and one null in some rows, over several statements.
    store = make_store()
    rows = [_order(store, f"Z{i:03d}", expected_ship_date=None,
                   email=None if i % 2 else "pat@example.com") for i in range(300)]
    insert_rows(session, Order.__table__, rows)
    stored = session.execute(select(Order.expected_ship_date, Order.email)
                             .order_by(Order.id)).all()
    assert stored == [(None, row["email"]) for row in rows]


def test_repeated_and_missing_times_store_as_core_stores_them(session, make_store):
    # A batch's rows share its "now" and repeat times; on PostgreSQL the COPY text of each
    # distinct time is made once. Whole seconds, fractions, offsets and NULLs alike.
    store = make_store()
    times = [WHEN, WHEN.replace(microsecond=0), WHEN.astimezone(timezone.utc), WHEN]
    days = [date(2026, 3, 4), None, date(1999, 12, 31), date(2026, 3, 4)]

    def rows(prefix):
        return [_order(store, f"{prefix}{i}", occurred_at=when, created_at=WHEN,
                       actual_ship_date=day)
                for i, (when, day) in enumerate(zip(times * 3, days * 3))]

    session.execute(insert(Order.__table__), rows("CORE-"))
    insert_rows(session, Order.__table__, rows("BULK-"))
    for column in ("occurred_at", "created_at", "actual_ship_date"):
        stored = _stored(session, "orders", column)
        assert stored[:12] == stored[12:], column
    assert {o.occurred_at for o in session.scalars(select(Order))} == {
        WHEN, WHEN.replace(microsecond=0)}
