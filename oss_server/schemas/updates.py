"""Wire protocol v1 input: the batch envelope and one UPDATE (SPEC §3)."""
from __future__ import annotations

from datetime import datetime, timezone

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates,
    validates_schema,
)

from .fields import EMAIL_ERROR, StrictInt, Text, WholeMatch, is_single_address, text

UPDATE_ID = WholeMatch(r"^[A-Za-z0-9._:-]{1,64}$", error="Use 1–64 of A–Z a–z 0–9 . _ : -")
QTY = validate.Range(min=0, max=1_000_000)
# The client's counter, stored in a 64-bit column (a millisecond clock is a fine one).
SEQUENCE_MAX = 2**63 - 1


def in_utc_range(value: datetime) -> None:
    """Refuse a time that has no UTC equivalent (0001-01-01T00:00+05:00 and the like)."""
    try:
        value.astimezone(timezone.utc)
    except OverflowError:
        raise ValidationError("The time is out of range once converted to UTC.") from None


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class BillToIn(StrictSchema):
    name = text(200, allow_none=True)
    zip = text(20, allow_none=True)
    email = text(254, allow_none=True, metadata={
        "description": "One address (no display name, comma, spaces or line breaks); "
                       "blank counts as absent."})
    phone = text(40, allow_none=True)

    @validates("email")
    def single_address(self, value, **kwargs):
        # Blank counts as absent; anything else is the address status emails go to.
        if value and value.strip() and not is_single_address(value):
            raise ValidationError(EMAIL_ERROR)

    @validates_schema
    def one_factor(self, data, **kwargs):
        if not any((data.get(k) or "").strip() for k in ("zip", "email", "phone")):
            raise ValidationError("Give at least one of zip, email or phone.", "_schema")


class ShipToIn(StrictSchema):
    name = text(200, allow_none=True)


class ItemIn(StrictSchema):
    line_id = text(64, 1, required=True)
    sku = text(64, allow_none=True)
    name = text(200, allow_none=True)
    qty_ordered = StrictInt(validate=QTY, load_default=0)
    qty_shipped = StrictInt(validate=QTY, load_default=0)
    qty_needed = StrictInt(validate=QTY, load_default=0)
    status = text(64, allow_none=True)
    expected_ship_date = fields.Date(allow_none=True)
    actual_ship_date = fields.Date(allow_none=True)


class TrackingIn(StrictSchema):
    number = text(64, 1, required=True)
    carrier = text(64, allow_none=True)
    shipped_on = fields.Date(allow_none=True)


class OrderIn(StrictSchema):
    order_number = text(64, 1, required=True)
    cart_order_number = text(64, allow_none=True)
    status = text(64, 1, required=True)
    bill_to = fields.Nested(BillToIn, required=True)
    ship_to = fields.Nested(ShipToIn, allow_none=True)
    expected_ship_date = fields.Date(allow_none=True)
    actual_ship_date = fields.Date(allow_none=True)
    items = fields.List(fields.Nested(ItemIn), load_default=list,
                        validate=validate.Length(max=1000))
    tracking = fields.List(fields.Nested(TrackingIn), load_default=list,
                           validate=validate.Length(max=100))

    @validates_schema
    def unique_lines(self, data, **kwargs):
        seen: set[str] = set()
        for index, item in enumerate(data.get("items") or []):
            if item["line_id"] in seen:
                raise ValidationError({"items": {index: {"line_id": ["Duplicate line_id."]}}})
            seen.add(item["line_id"])

    @validates_schema
    def order_number_not_blank(self, data, **kwargs):
        if not (data.get("order_number") or "").strip():
            raise ValidationError("Must not be blank.", "order_number")

    @validates_schema
    def numbers_fold_within_limit(self, data, **kwargs):
        # Numbers are compared case-folded, and folding can lengthen a string ("ß" → "ss"):
        # the folded form is what is stored and indexed, so it must fit as well.
        for name in ("order_number", "cart_order_number"):
            if len((data.get(name) or "").strip().casefold()) > 64:
                raise ValidationError("Too long once compared case-insensitively.", name)


class UpdateIn(StrictSchema):
    update_id = Text(required=True, validate=UPDATE_ID)
    sequence = StrictInt(required=True, validate=validate.Range(min=0, max=SEQUENCE_MAX),
                         metadata={"format": "int64"})
    occurred_at = fields.AwareDateTime(required=True, format="iso", validate=in_utc_range)
    event = text(64, allow_none=True)
    notify_customer = fields.Boolean(load_default=False)
    order = fields.Nested(OrderIn, required=True)


class BatchIn(StrictSchema):
    """The envelope only; each UPDATE is validated on its own so one bad one rejects alone."""

    updates = fields.List(fields.Raw(), required=True, validate=validate.Length(min=1))
