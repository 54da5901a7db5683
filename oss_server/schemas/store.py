"""``GET /api/v1/store`` output: the key's store and where its subscription stands."""
from marshmallow import Schema, fields, validate

SUBSCRIPTION_STATES = ("active", "grace", "lapsed")


class SubscriptionOut(Schema):
    state = fields.String(validate=validate.OneOf(SUBSCRIPTION_STATES))
    paid_through = fields.Date(allow_none=True)


class StoreOut(Schema):
    slug = fields.String()
    name = fields.String()
    subscription = fields.Nested(SubscriptionOut)
