"""Status and reset links are bearer credentials: no log line shows their token whole."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import requests

from oss_server.logs import redact
from oss_server.services import credentials
from oss_server.services.tokens import make_status_token
from oss_server.shop import views as shop_views
from tests.logscan import findings
from tests.shop.conftest import add_order  # noqa: F401  (fixture)


@pytest.fixture
def links(app, make_merchant, make_store, add_order):  # noqa: F811
    merchant = make_merchant()
    store = make_store(merchant=merchant, slug="acme")
    add_order(store)
    status = make_status_token(app.secret_key, store.id, 1)
    reset = credentials.make_reset_token(app.secret_key, merchant)
    return status, reset


def _lines(caplog) -> str:
    return "\n".join(caplog.handler.format(record) for record in caplog.records)


def test_link_tokens_never_reach_a_log_line(live_url, links, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    status, reset = links
    # werkzeug's own server: its access lines quote the request line as sent.
    assert requests.get(f"{live_url}/s/acme/o/{status}", timeout=10).status_code == 200
    assert requests.get(f"{live_url}/s/acme/o/{status}?lang=de", timeout=10).status_code == 200
    assert requests.get(f"{live_url}/account/reset/{reset}", timeout=10).status_code == 200

    # An unexpected failure on either page: the error line names the path, the
    # traceback quotes the exception (which here carries the path again).
    def fail(*_args, **_kwargs):
        raise RuntimeError(f"failed on /s/acme/o/{status} and /account/reset/{reset}")

    monkeypatch.setattr(shop_views, "_status_html", fail)
    monkeypatch.setattr(credentials, "read_reset_token", fail)
    assert requests.get(f"{live_url}/s/acme/o/{status}", timeout=10).status_code == 500
    assert requests.get(f"{live_url}/account/reset/{reset}", timeout=10).status_code == 500

    text = _lines(caplog)
    assert "werkzeug" in {r.name for r in caplog.records}
    assert "unhandled error on GET /s/acme/o/[token]" in text
    assert "unhandled error on GET /account/reset/[token]" in text
    assert '"GET /s/acme/o/[token]?lang=de HTTP/1.1" 200' in text
    for token in (status, reset):
        assert token not in text
        # Not even the signature part alone (the part that cannot be guessed).
        assert token.rsplit(".", 1)[-1] not in text
    assert not [line for line in text.splitlines() if findings(line)]


@pytest.mark.parametrize("line", [
    '127.0.0.1 "GET /s/acme/o/WzEsMl0.Z3q1Ag.kXy-_Abc123def456 HTTP/1.1" 200 1234 3ms',
    "unhandled error on POST /account/reset/eyJpZCI6MX0.Z3q1Ag.kXy-_Abc123def456",
    "see https://status.example/prefix/s/acme/o/WzEsMl0.Z3q1Ag.kXy-_Abc123def456#top",
])
def test_redaction_masks_the_token_and_keeps_the_rest(line):
    cleaned = redact(line)
    assert "kXy-_Abc123def456" not in cleaned and "[token]" in cleaned
    assert findings(line) == ["link token"] and findings(cleaned) == []


def test_gunicorn_access_lines_mask_the_token(app, links, tmp_path):
    # gunicorn's own access log (--access-logfile) quotes the raw request line.
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    status, _reset = links
    cfg = Config()
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("errorlog", str(tmp_path / "error.log"))
    cfg.set("access_log_format", '%(h)s "%(r)s" %(s)s %(U)s')
    logger = Logger(cfg)
    try:
        environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/s/acme/o/{status}?lang=de",
                   "PATH_INFO": f"/s/acme/o/{status}", "QUERY_STRING": "lang=de",
                   "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1"}
        response = type("Response", (), {"status": "200 OK", "sent": 10, "headers": []})()
        logger.access(response, [], environ, timedelta(milliseconds=3))
    finally:
        for log in (logger.access_log, logger.error_log):
            for handler in list(log.handlers):
                handler.close()
                log.removeHandler(handler)
    line = (tmp_path / "access.log").read_text()
    assert '"GET /s/acme/o/[token]?lang=de HTTP/1.1" 200 /s/acme/o/[token]' in line
    assert status not in line
