"""Request ids, /metrics content and who may read it."""
from __future__ import annotations

import json
import logging

import pytest

from oss_server.ops.logjson import JsonFormatter
from oss_server.ops.metrics_view import allowed_networks, scraper_allowed

from ..conftest import make_update


def _value(text: str, name: str, **labels) -> float:
    for line in text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_request_id_is_made_or_kept(client):
    made = client.get("/healthz").headers["X-Request-ID"]
    assert 12 <= len(made) <= 64
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123_def.45"}) \
        .headers["X-Request-ID"] == "abc-123_def.45"
    for hostile in ("short", "x" * 65, "a b c d e f g", "<script>alert(1)</script>"):
        assert client.get("/healthz", headers={"X-Request-ID": hostile}) \
            .headers["X-Request-ID"] != hostile


def test_errors_carry_the_request_id_too(client):
    response = client.post("/api/v1/updates", json={"updates": []})
    assert response.status_code == 401 and response.headers["X-Request-ID"]


def test_metrics_count_updates_lookups_and_limits(client, api, two_stores):
    before = client.get("/metrics").get_data(as_text=True)
    api.results(make_update("m-1", 1), make_update("m-1", 1), make_update("bad", "x"))
    store = two_stores[0]
    client.post("/api/v1/lookup", json={"store": store.store.slug,
                                        "order_number": store.numbers[0], "verifier": "10001"})
    client.post("/api/v1/lookup", json={"store": store.store.slug,
                                        "order_number": store.numbers[0], "verifier": "0"})
    text = client.get("/metrics").get_data(as_text=True)
    for outcome in ("applied", "duplicate", "rejected"):
        assert _value(text, "oss_updates_total", outcome=outcome) \
            - _value(before, "oss_updates_total", outcome=outcome) >= 1
    # Per endpoint: earlier tests in the same process may have counted form lookups.
    json_lookups = {"endpoint": "shop_api.lookup"}
    for result in ("found", "not_found"):
        assert _value(text, "oss_lookups_total", result=result, **json_lookups) \
            - _value(before, "oss_lookups_total", result=result, **json_lookups) == 1
    assert _value(text, "oss_http_requests_total", endpoint="api.post_updates", status="200") >= 1
    assert "oss_outbox_pending_emails" in text and "oss_database_up 1.0" in text


class TestRestricted:
    """A token and a network list configured, and a tight API limit."""

    @pytest.fixture
    def app_config(self):
        return {"OSS_API_RATE_LIMIT": "2 per minute", "OSS_METRICS_TOKEN": "scrape-token",
                "OSS_METRICS_ALLOW": "10.0.0.0/8"}

    def test_limit_hits_are_counted_and_metrics_need_token_or_network(self, client, api):
        for i in range(3):
            api.post(make_update(f"l-{i}", i))
        far = {"REMOTE_ADDR": "192.0.2.7"}
        assert client.get("/metrics", environ_base=far).status_code == 403
        assert client.get("/metrics", environ_base=far,
                          headers={"Authorization": "Bearer wrong"}).status_code == 403
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
        text = client.get("/metrics", environ_base=far,
                          headers={"Authorization": "Bearer scrape-token"}).get_data(as_text=True)
        assert _value(text, "oss_rate_limited_total", endpoint="api.post_updates") >= 1


def test_scraper_rules():
    loopback = allowed_networks("127.0.0.0/8,::1/128")
    assert scraper_allowed(None, loopback, "", "127.0.0.1")
    assert scraper_allowed(None, loopback, "", "::ffff:127.0.0.1")
    assert not scraper_allowed(None, loopback, "", "192.0.2.1")
    assert not scraper_allowed(None, allowed_networks("none"), "", "127.0.0.1")
    assert scraper_allowed("t0k", [], "Bearer t0k", "192.0.2.1")
    assert not scraper_allowed("", [], "Bearer ", "192.0.2.1")


def test_json_formatter_is_one_redacted_object_per_line():
    record = logging.LogRecord("oss_server.x", logging.INFO, __file__, 1,
                               "key %s", ("oss_0123456789abcdef_secretpart",), None)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "INFO" and "secretpart" not in entry["message"]


def test_access_line_masks_a_link_token(client, caplog):
    caplog.set_level(logging.INFO, logger="oss_server.access")
    response = client.get("/s/no-such-store/o/WzEsMl0.aBcD.sEcReTsIgNaTuRe")
    lines = [r.getMessage() for r in caplog.records if r.name == "oss_server.access"]
    assert lines == [f"GET /s/no-such-store/o/[token] {response.status_code}"]
