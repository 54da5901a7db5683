"""The order's fields, declared once in ``models.order_fields``, agree with every hand-written list.

A field added in one place and not the others fails one of these, which names the place.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from types import SimpleNamespace

import pytest
from marshmallow import Schema, fields
from sqlalchemy import Date, select

from oss_server.models import Order
from oss_server.models.order_fields import (
    COPIED,
    ORDER_FIELDS,
    OTHER_COLUMNS,
    SHOWN_COLUMNS,
    SHOWN_PATHS,
    copy_columns,
)
from oss_server.schemas.shopper import ShopperOrderOut
from oss_server.schemas.updates import UpdateIn
from oss_server.services.snapshot_writer import SnapshotWriter
from oss_server.storage.shop_pages import ShopperOrder, _OrderRow

from ..conftest import make_update
from .test_validation import _set


def contract_paths(schema: type[Schema] = UpdateIn, prefix: str = "") -> list[str]:
    """The dotted path of every field of the update's objects (lists of lines left out)."""
    paths = []
    for name, field in schema._declared_fields.items():
        if isinstance(field, fields.Nested):
            paths += contract_paths(field.nested, f"{prefix}{name}.")
        elif not isinstance(field, fields.List):
            paths.append(prefix + name)
    return paths


def every_contract_path(schema: type[Schema] = UpdateIn, prefix: str = "") -> list[str]:
    """The path of every field of the contract, objects and the first line's included."""
    paths = []
    for name, field in schema._declared_fields.items():
        paths.append(prefix + name)
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            step = f"{name}." if inner is field else f"{name}.0."
            paths += every_contract_path(inner.nested, prefix + step)
    return paths


def full_update() -> tuple[dict, dict]:
    """An update with a value of its own in every copied field of the order; those values.

    Dates are days of December 2026, text is the column's name: what each field holds is
    told apart from every other in what is read back.
    """
    update, values = make_update(), {}
    copied = [f for f in ORDER_FIELDS if f.how == COPIED and f.source.startswith("order.")]
    for day, field in enumerate(copied, start=1):
        is_date = isinstance(Order.__table__.c[field.column].type, Date)
        value = date(2026, 12, day) if is_date else f"{field.column} value"
        _set(update, field.source, value.isoformat() if is_date else value)
        values[field.column] = value
    return update, values


def test_every_orders_column_is_declared_once():
    declared = [f.column for f in ORDER_FIELDS] + list(OTHER_COLUMNS)
    assert sorted(declared) == sorted(Order.__table__.c.keys()), \
        "a column of models/orders.py is missing from models/order_fields.py, or twice in it"


def test_every_field_comes_from_a_field_of_the_contract():
    unknown = {f.source for f in ORDER_FIELDS} - set(contract_paths())
    assert unknown == set(), "not a field of schemas/updates.py"


def test_every_field_of_the_order_in_the_contract_is_stored():
    # A field the contract accepts and no column keeps would be dropped without a word.
    stored = {f.source for f in ORDER_FIELDS}
    dropped = [p for p in contract_paths() if p.startswith("order.") and p not in stored]
    assert dropped == [], "declare these in models/order_fields.py"


def test_the_snapshot_writer_fills_every_field():
    store = SimpleNamespace(id=1, shopper_emails=True)
    writer = SnapshotWriter(None, store, "k" * 32, datetime(2026, 12, 1, tzinfo=timezone.utc))
    update, values = full_update()
    writer.apply("1001", UpdateIn().load(update))
    row = writer.state("1001").row
    # The writer also keeps cart_key and updated_at (see OTHER_COLUMNS).
    assert set(row) == {f.column for f in ORDER_FIELDS} | {"cart_key", "updated_at"}
    assert [f.column for f in ORDER_FIELDS if row[f.column] is None] == []
    assert {column: row[column] for column in values} == values


def test_an_update_is_stored_and_read_back_by_the_api(api, session):
    update, values = full_update()
    assert api.results(update) == ["applied"]
    row = session.execute(select(Order.__table__)).mappings().one()
    assert {column: row[column] for column in values} == values
    body = api.order("1001").get_json()
    for column, path in zip(SHOWN_COLUMNS, SHOWN_PATHS):
        value = body
        for key in path:
            assert key in value, f"schemas/orders.py: {'.'.join(path)}"
            value = value[key]
        stored = row[column]
        assert value == (stored.isoformat() if isinstance(stored, date) else stored), column


def test_the_shopper_json_declares_every_shown_field():
    for path in SHOWN_PATHS:
        schema: type[Schema] = ShopperOrderOut
        for key in path[:-1]:
            schema = schema._declared_fields[key].nested
        assert path[-1] in schema._declared_fields, f"schemas/shopper.py: {'.'.join(path)}"


def test_the_shopper_pages_read_every_shown_field():
    # Typed rows, written out in storage/shop_pages.py: their selects follow their fields.
    assert _OrderRow._fields == ("id", *SHOWN_COLUMNS, "updated_at"), \
        "storage/shop_pages.py: _OrderRow and ShopperOrder"
    assert ShopperOrder._fields[:len(_OrderRow._fields)] == _OrderRow._fields


@pytest.mark.parametrize("ship_to", ["absent", None, {}])
def test_an_absent_or_null_object_copies_as_nulls(ship_to):
    update, values = full_update()
    if ship_to == "absent":
        del update["order"]["ship_to"]
    else:
        update["order"]["ship_to"] = ship_to
    row = copy_columns(UpdateIn().load(update))
    assert row["ship_to_name"] is None
    assert row["bill_to_name"] == values["bill_to_name"]
    assert set(row) == {f.column for f in ORDER_FIELDS if f.how == COPIED}
