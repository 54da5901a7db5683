"""Logs captured while real traffic runs hold no factor, key, password, cookie or card number."""
from __future__ import annotations

import logging
import re

import pytest
import requests

from oss_server.logs import redact

from ..conftest import PASSWORD, make_update

CARD = "4111 1111 1111 1111"
CARD_RUN = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")


def test_traffic_leaves_no_secret_in_any_log_line(live_url, api, make_merchant, caplog):
    caplog.set_level(logging.DEBUG)
    merchant = make_merchant(email="owner@example.com")
    key = api.key
    base = live_url  # werkzeug's own server, so its access log runs too
    auth = {"Authorization": f"Bearer {key}"}
    update = make_update("r-1", 1)
    requests.post(f"{base}/api/v1/updates", json={"updates": [update]}, headers=auth, timeout=10)
    carded = make_update("r-2", 2, status=f"paid with {CARD}")
    carded["order"]["bill_to"]["name"] = "4012888888881881"
    requests.post(f"{base}/api/v1/updates", json={"updates": [carded]}, headers=auth, timeout=10)
    requests.post(f"{base}/api/v1/updates?api_key={key}&zip=10001", json={"updates": [update]},
                  timeout=10)
    requests.get(f"{base}/api/v1/orders/1001?verifier=10001&email=pat@example.com", headers={
        **auth, "Cookie": "session=s3cr3t-session-cookie"}, timeout=10)
    requests.post(f"{base}/api/v1/lookup", timeout=10, json={
        "store": "no-such-store", "order_number": "1001", "verifier": "10001"})
    requests.post(f"{base}/account/login", data={"email": merchant.email, "password": PASSWORD},
                  timeout=10)
    requests.post(f"{base}/api/v1/updates", data=b'{"updates": [' + CARD.encode(),
                  headers={**auth, "Content-Type": "application/json"}, timeout=10)
    logging.getLogger("oss_server.test").error("client sent %s with key %s", CARD, key)
    try:
        raise ValueError(f"bad value {CARD} for pat@example.com")
    except ValueError:
        logging.getLogger("oss_server.test").exception("while handling key=%s", key)

    lines = [caplog.handler.format(record) for record in caplog.records]
    assert any(r.name == "werkzeug" for r in caplog.records)  # the access log was captured
    text = "\n".join(lines)
    for secret in (key, key.split("_", 2)[2], PASSWORD, "s3cr3t-session-cookie",
                   "pat@example.com", "Pat@Example.com", "owner@example.com", CARD):
        assert secret not in text, secret
    assert not CARD_RUN.search(text)
    assert "10001" not in text.replace("/api/v1/orders/1001", "")


@pytest.mark.parametrize("line, secret", [
    ("Authorization: Bearer oss_0123456789abcdef_abcDEF-123", "abcDEF-123"),
    ('{"password": "correct horse battery"}', "horse battery"),
    ("Cookie: session=.eJyrVkrOz0.abc; lang=en", "eJyrVkrOz0"),
    ("POST /x?token=abc123def&ok=1", "abc123def"),
    ("card 4111-1111-1111-1111 in text", "4111-1111-1111-1111"),
    ("glued ab4111111111111111cd", "4111111111111111"),
    ("verifier='SW1A 1AA'", "SW1A 1AA"),
])
def test_redact_masks(line, secret):
    assert secret not in redact(line)
