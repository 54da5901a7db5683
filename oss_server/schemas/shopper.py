"""The shopper's audience: the JSON lookup's input, and an output with no factor fields."""
from marshmallow import Schema, fields

from ..services.standard_labels import STAGES
from .fields import text


class LookupIn(Schema):
    """``POST /api/v1/lookup`` body; unknown fields are rejected."""

    # Text refuses control characters: a NUL can never match and PostgreSQL refuses it.
    store = text(64, 1, required=True)
    order_number = text(64, 1, required=True)
    verifier = text(254, 1, required=True)


class NameOut(Schema):
    name = fields.String(allow_none=True)


class ShopperItemOut(Schema):
    sku = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    qty_ordered = fields.Integer()
    qty_shipped = fields.Integer()
    qty_needed = fields.Integer()
    status = fields.String(allow_none=True, metadata={"description": "As the store words it"})
    expected_ship_date = fields.Date(allow_none=True)
    actual_ship_date = fields.Date(allow_none=True)


class ShopperTrackingOut(Schema):
    number = fields.String()
    carrier = fields.String(allow_none=True)
    url = fields.String(allow_none=True, metadata={"description": "Carrier tracking page; "
                                                   "absent when the carrier is unknown"})
    shipped_on = fields.Date(allow_none=True)


class ShopperHistoryOut(Schema):
    at = fields.AwareDateTime(format="iso")
    status = fields.String()
    item = fields.String(allow_none=True, metadata={"description": "Item name for item changes"})


class ShopperOrderOut(Schema):
    """What a shopper may read of an order: never the ZIP, email or phone."""

    order_number = fields.String()
    cart_order_number = fields.String(allow_none=True)
    status = fields.String(allow_none=True, metadata={
        "description": "As the store words it, in the language asked for (Accept-Language "
                       "or ?lang=: en, es, fr, de)"})
    stage = fields.String(metadata={
        "description": "Where the order is on its journey",
        "enum": list(STAGES)})
    bill_to = fields.Nested(NameOut)
    ship_to = fields.Nested(NameOut)
    expected_ship_date = fields.Date(allow_none=True)
    actual_ship_date = fields.Date(allow_none=True)
    items = fields.List(fields.Nested(ShopperItemOut))
    tracking = fields.List(fields.Nested(ShopperTrackingOut))
    history = fields.List(fields.Nested(ShopperHistoryOut))
    updated_at = fields.AwareDateTime(format="iso")


class StoreOut(Schema):
    name = fields.String()
    slug = fields.String()
    support_email = fields.String(allow_none=True)
    support_phone = fields.String(allow_none=True)
    support_url = fields.String(allow_none=True)
    logo_url = fields.String(allow_none=True)
    accent_color = fields.String(allow_none=True)


class LookupOut(Schema):
    store = fields.Nested(StoreOut)
    order = fields.Nested(ShopperOrderOut)
    status_url = fields.String(metadata={"description": "Signed, expiring status page link"})
