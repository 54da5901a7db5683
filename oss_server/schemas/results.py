"""Batch outcome and error envelope schemas, used for the OpenAPI document."""
from marshmallow import Schema, fields, validate

OUTCOMES = ("applied", "duplicate", "stale", "rejected")


class ResultOut(Schema):
    update_id = fields.String(allow_none=True)
    result = fields.String(validate=validate.OneOf(OUTCOMES))
    errors = fields.Dict(keys=fields.String(), values=fields.String())


class BatchOut(Schema):
    results = fields.List(fields.Nested(ResultOut))


class ErrorBody(Schema):
    code = fields.String()
    message = fields.String()


class ErrorOut(Schema):
    error = fields.Nested(ErrorBody)
