"""``GET /api/v1/openapi.json``: the OpenAPI 3 document, built from the same schemas."""
from __future__ import annotations

from collections.abc import Callable

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app, jsonify

from ..schemas.orders import OrderOut
from ..schemas.results import BatchOut, ErrorOut
from ..schemas.store import StoreOut
from ..schemas.updates import UpdateIn
from .blueprint import bp

# Extra operations (e.g. the shopper JSON lookup) add themselves here when registered.
EXTRA_PATHS: list[Callable[[APISpec], None]] = []


def _errors(*statuses: int) -> dict:
    text = {400: "Malformed JSON or envelope", 401: "Missing or wrong API key",
            402: "Subscription lapsed", 404: "Not found", 413: "Body or batch too large",
            415: "Not JSON", 429: "Rate limited (see Retry-After)",
            503: "Storage unavailable (see Retry-After)"}
    return {str(s): {"description": text[s], "content": {"application/json": {"schema": "Error"}}}
            for s in statuses}


def build_spec(server_url: str = "/") -> dict:
    """Return the OpenAPI document of the JSON API as a dict."""
    spec = APISpec(title="Order Status System API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()], servers=[{"url": server_url}])
    spec.components.security_scheme("apiKey", {"type": "http", "scheme": "bearer",
                                               "bearerFormat": "oss_<key id>_<secret>"})
    spec.components.schema("Update", schema=UpdateIn)
    spec.components.schema("BatchResults", schema=BatchOut)
    spec.components.schema("Order", schema=OrderOut)
    spec.components.schema("Error", schema=ErrorOut)
    spec.components.schema("Store", schema=StoreOut)
    secured: list[dict[str, list[str]]] = [{"apiKey": []}]
    number = {"name": "order_number", "in": "path", "required": True, "schema": {"type": "string"}}
    spec.path(path="/api/v1/updates", operations={"post": {
        "summary": "Send a batch of order status updates (1–500, at most 1 MiB)",
        "security": secured,
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": False, "required": ["updates"],
            "properties": {"updates": {"type": "array", "minItems": 1, "maxItems": 500,
                                       "items": {"$ref": "#/components/schemas/Update"}}}}}}},
        "responses": {"200": {"description": "One result per update, in request order",
                              "content": {"application/json": {"schema": "BatchResults"}}},
                      **_errors(400, 401, 402, 413, 415, 429, 503)},
    }})
    spec.path(path="/api/v1/orders/{order_number}", operations={
        "get": {"summary": "Read a stored order with its history", "security": secured,
                "parameters": [number],
                "responses": {"200": {"description": "The order",
                                      "content": {"application/json": {"schema": "Order"}}},
                              **_errors(400, 401, 402, 404, 503)}},
        "delete": {"summary": "Erase an order and its history", "security": secured,
                   "parameters": [number],
                   "responses": {"204": {"description": "Erased"},
                                 **_errors(400, 401, 402, 404, 503)}},
    })
    spec.path(path="/api/v1/store", operations={"get": {
        "summary": "The key's store and its subscription, to check a key before sending",
        "description": "Answers a lapsed store too (state lapsed), so a key can be checked "
                       "and the integrator told to renew; the other routes answer 402.",
        "security": secured,
        "responses": {"200": {"description": "The store",
                              "content": {"application/json": {"schema": "Store"}}},
                      **_errors(401, 503)}}})
    for add in EXTRA_PATHS:
        add(spec)
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi_document():
    """Return the OpenAPI 3 document of the whole JSON API."""
    return jsonify(build_spec(current_app.config["OSS_BASE_URL"]))
