"""Signing, the endpoint rule, backoff and the one classify() function."""

import hashlib
import hmac
import json

import pytest
import requests

from seom_client.config import endpoint_url
from seom_client.sender import (
    DEAD,
    DELIVER,
    PAUSE,
    RETRY,
    SPLIT,
    backoff_delay,
    classify,
    describe_network_error,
    parse_retry_after,
    signature,
)

# The worked example of docs/protocol.md.
DOC_BODY = (b'{"updates":[{"update_id":"u-1","sequence":0,'
            b'"occurred_at":"2026-01-05T10:00:00+00:00",'
            b'"order":{"order_number":"1001","status":"Shipped","bill_to":{"zip":"90210"}}}]}')
DOC_SIGNATURE = "t=1767607200,v1=1bbadea827ae960cee7ded805e55681b492456c871088bea4500c87e50d99d53"


def test_signature_matches_an_independent_hmac():
    body = b'{"updates":[]}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature("s3cret", body, 1700000000) == f"t=1700000000,v1={expected}"


def test_signature_matches_the_documented_example():
    assert signature("whsec_example", DOC_BODY, 1767607200) == DOC_SIGNATURE


@pytest.mark.parametrize("url, generic, expected", [
    ("http://127.0.0.1:5000", False, "http://127.0.0.1:5000/api/v1/updates"),
    ("https://oss.example/", False, "https://oss.example/api/v1/updates"),
    ("https://oss.example/api/v1/updates", False, "https://oss.example/api/v1/updates"),
    ("https://shop.example/oss-hook", True, "https://shop.example/oss-hook"),
    ("https://shop.example/", True, "https://shop.example/api/v1/updates"),
    ("https://shop.example", True, "https://shop.example/api/v1/updates"),
])
def test_endpoint_rule(url, generic, expected):
    assert endpoint_url(url, generic) == expected


def test_backoff_is_capped_exponential_with_full_jitter():
    assert backoff_delay(0, 0.5, 60, rand=lambda: 1.0) == 0.5
    assert backoff_delay(3, 0.5, 60, rand=lambda: 1.0) == 4.0
    assert backoff_delay(30, 0.5, 60, rand=lambda: 1.0) == 60
    assert backoff_delay(3, 0.5, 60, rand=lambda: 0.25) == 1.0
    assert backoff_delay(5, 0.5, 60, rand=lambda: 0.0) == 0.0


@pytest.mark.parametrize("value, expected", [("3", 3.0), ("0", 0.0), (None, None),
                                             ("soon", None), ("99999", 3600.0)])
def test_retry_after(value, expected):
    assert parse_retry_after(value) == expected


def test_retry_after_as_http_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def response(status, json_body=None, headers=None, raw=None):
    r = requests.Response()
    r.status_code = status
    r.headers.update(headers or {})
    r._content = raw if raw is not None else json.dumps(json_body or {}).encode()
    return r


@pytest.mark.parametrize("status, action", [
    (401, PAUSE), (402, PAUSE), (403, PAUSE), (413, SPLIT),
    (408, RETRY), (429, RETRY), (500, RETRY), (502, RETRY), (503, RETRY), (404, RETRY),
])
def test_classify_whole_request_statuses(status, action):
    verdict = classify(response(status, {"error": {"code": "x", "message": "m"}}), ["a"])
    assert verdict.action == action and verdict.status == status
    assert verdict.reason == f"HTTP {status} x: m"


@pytest.mark.parametrize("status", [400, 422])
def test_classify_a_refused_request_splits_and_keeps_the_receivers_body(status):
    body = {"error": {"code": "x", "message": "m"}}
    verdict = classify(response(status, body), ["a"])
    assert verdict.action == SPLIT and verdict.status == status
    assert verdict.reason == f"HTTP {status} x: m" and verdict.body == body
    text = classify(response(status, raw=b"no such field: colour"), ["a"])
    assert text.action == SPLIT and text.body == "no such field: colour"


def test_network_errors_read_as_one_plain_sentence():
    refused = requests.ConnectionError(
        "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: "
        "/api/v1/updates (Caused by NewConnectionError('<urllib3.connection.HTTPConnection "
        "object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection refused'))")
    verdict = classify(refused, ["a"])
    assert verdict.reason == ("network error: nothing is listening at the receiver "
                              "(connection refused)")
    assert "Max retries" in verdict.detail  # the raw text stays available for --json
    assert describe_network_error(requests.Timeout("x"), "http://a.example:81/x") == \
        "a.example:81 did not answer in time"
    assert "TLS certificate" in describe_network_error(
        requests.exceptions.SSLError("CERTIFICATE_VERIFY_FAILED certificate verify failed"),
        "https://shop.example")


def test_classify_network_errors_and_unreadable_answers_retry():
    assert classify(requests.ConnectionError("refused"), ["a"]).action == RETRY
    assert classify(requests.Timeout("slow"), ["a"]).action == RETRY
    assert classify(response(200, raw=b"<html>"), ["a"]).action == RETRY
    assert classify(response(200, {"nope": []}), ["a"]).action == RETRY


def test_classify_honours_retry_after():
    verdict = classify(response(429, headers={"Retry-After": "7"}), ["a"])
    assert verdict.retry_after == 7.0


def test_classify_per_update_results():
    body = {"results": [
        {"update_id": "a", "result": "applied"}, {"update_id": "b", "result": "duplicate"},
        {"update_id": "c", "result": "stale"},
        {"update_id": "d", "result": "rejected", "errors": {"order.status": ["required"]}},
        {"update_id": "e", "result": "mystery"}]}
    verdict = classify(response(200, body), ["a", "b", "c", "d", "e", "f"])
    assert verdict.action == DELIVER
    assert verdict.records == {"a": (DELIVER, None), "b": (DELIVER, None), "c": (DELIVER, None),
                               "d": (DEAD, {"order.status": ["required"]}),
                               "e": (RETRY, None), "f": (RETRY, None)}
