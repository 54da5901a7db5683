"""Order output: what an API key holder reads back. Factors are simply absent."""
from marshmallow import Schema, fields


class NameOut(Schema):
    name = fields.String(allow_none=True)


class ItemOut(Schema):
    line_id = fields.String()
    sku = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    qty_ordered = fields.Integer()
    qty_shipped = fields.Integer()
    qty_needed = fields.Integer()
    status = fields.String(allow_none=True)
    expected_ship_date = fields.Date(allow_none=True)
    actual_ship_date = fields.Date(allow_none=True)


class TrackingOut(Schema):
    number = fields.String()
    carrier = fields.String(allow_none=True)
    shipped_on = fields.Date(allow_none=True)


class HistoryOut(Schema):
    line_id = fields.String(allow_none=True)
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    event = fields.String(allow_none=True)
    occurred_at = fields.AwareDateTime(format="iso")


class OrderOut(Schema):
    order_number = fields.String()
    cart_order_number = fields.String(allow_none=True)
    status = fields.String()
    bill_to = fields.Function(lambda o: {"name": o.bill_to_name}, metadata={"type": "object"})
    ship_to = fields.Function(lambda o: {"name": o.ship_to_name}, metadata={"type": "object"})
    expected_ship_date = fields.Date(allow_none=True)
    actual_ship_date = fields.Date(allow_none=True)
    items = fields.List(fields.Nested(ItemOut))
    tracking = fields.List(fields.Nested(TrackingOut))
    updated_at = fields.AwareDateTime(format="iso")
    history = fields.List(fields.Nested(HistoryOut))
