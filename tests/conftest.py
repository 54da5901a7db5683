"""Shared fixtures: an app on the test database, factories, and an API helper.

Set OSS_TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test) to run
the suite on PostgreSQL; the default is a throwaway SQLite file.
"""
from __future__ import annotations

import copy
import itertools
import logging
import os
import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text as sql_text
from werkzeug.serving import make_server

from oss_server import create_app
from oss_server.config import normalise_database_url
from oss_server.extensions import db as _db
from oss_server.services import accounts, keys

from .logscan import SuiteLog

TEST_FACTOR_KEY = "test-factor-key"
PASSWORD = "correct horse battery"


_suite_log = SuiteLog()


def pytest_sessionstart(session):
    # The root logger sees every in-process line: the app's, werkzeug's, the client's.
    root = logging.getLogger()
    root.addHandler(_suite_log)
    root.setLevel(logging.DEBUG)
    # SQL echo would log parameters (keyed hashes, not factors) and slow the run ten-fold.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)


def pytest_runtest_setup(item):
    _suite_log.test = item.nodeid


def pytest_sessionfinish(session, exitstatus):
    logging.getLogger().removeHandler(_suite_log)
    if not _suite_log.leaks:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.section("secrets in log lines", sep="=", red=True)
        for test, line, found in _suite_log.leaks[:50]:
            reporter.write_line(f"{test}: {', '.join(found)}: {line}")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("OSS_TEST_DATABASE_URL")
    if url:
        return normalise_database_url(url)
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


def _config(database_url: str, **extra) -> dict:
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
            "OSS_FACTOR_KEY": TEST_FACTOR_KEY, "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": True, **extra}


@pytest.fixture(scope="session")
def _schema(database_url):
    app = create_app(_config(database_url))
    with app.app_context():
        _db.drop_all()
        _db.create_all()
        _db.engine.dispose()


@pytest.fixture
def app_config(database_url) -> dict:
    """Override per test module to change settings (e.g. limits)."""
    return {}


@pytest.fixture
def app(database_url, _schema, app_config):
    app = create_app(_config(database_url, **app_config))
    with app.app_context():
        yield app
        _db.session.remove()
        _empty_tables(_db.engine)
        _db.engine.dispose()


def _empty_tables(engine) -> None:
    """Empty every table and restart the id counters, so ids repeat.

    SQLite hands out max(id) + 1 where a table has no AUTOINCREMENT; its AUTOINCREMENT
    counters (orders) and PostgreSQL's sequences keep counting after a DELETE, and ids
    (which end up in URLs and pages) would differ from run to run and test to test.
    DELETE plus setval, not TRUNCATE ... RESTART IDENTITY: on these near-empty tables
    TRUNCATE takes ~100 ms a test against ~3 ms, and it waits on any transaction still
    open on a table.
    """
    tables = _db.metadata.sorted_tables
    serial = [(t.fullname, t.autoincrement_column.name) for t in tables
              if t.autoincrement_column is not None]
    with engine.begin() as conn:
        for table in reversed(tables):
            conn.execute(table.delete())
        if engine.dialect.name == "postgresql" and serial:
            conn.execute(sql_text(
                "SELECT setval(pg_get_serial_sequence(t, c), 1, false)"
                " FROM unnest(CAST(:tables AS text[]), CAST(:columns AS text[])) AS s(t, c)"),
                {"tables": [t for t, _ in serial], "columns": [c for _, c in serial]})
        elif engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DELETE FROM sqlite_sequence")


@pytest.fixture
def live_url(app):
    """The app behind werkzeug's threaded server on a free loopback port (browsers, logs)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    return _db.session


_counter = itertools.count(1)


@pytest.fixture
def make_merchant(session):
    def make(email=None, password=PASSWORD, paid_through=None):
        merchant = accounts.create_merchant(
            session, email or f"merchant{next(_counter)}@example.com", password,
            paid_through=paid_through or date.today() + timedelta(days=365))
        session.commit()
        return merchant
    return make


@pytest.fixture
def make_store(session, make_merchant):
    def make(merchant=None, slug=None, name="Test Store", **settings):
        merchant = merchant or make_merchant()
        store = accounts.create_store(session, merchant, slug or f"store-{next(_counter)}",
                                      name, **settings)
        session.commit()
        return store
    return make


@pytest.fixture
def make_api_key(session, make_store):
    def make(store=None, label=None):
        store = store or make_store()
        _key, full = keys.create_api_key(session, store, label)
        session.commit()
        return full
    return make


BASE_UPDATE = {
    "update_id": "u-1",
    "sequence": 1,
    "occurred_at": "2026-11-20T10:00:00+00:00",
    "event": "Order Approve",
    "order": {
        "order_number": "1001",
        "cart_order_number": "W-1001",
        "status": "Approved",
        "bill_to": {"name": "Pat Doe", "zip": "10001-1234", "email": "Pat@Example.com",
                    "phone": "+1 (212) 555-0199"},
        "ship_to": {"name": "Pat Doe"},
        "items": [
            {"line_id": "1", "sku": "MUG", "name": "Mug", "qty_ordered": 2, "qty_shipped": 0,
             "qty_needed": 2, "status": "Item Pending"},
            {"line_id": "2", "sku": "CAP", "name": "Cap", "qty_ordered": 1, "qty_shipped": 0,
             "qty_needed": 1, "status": "Item Pending"},
        ],
        "tracking": [],
    },
}


def make_update(update_id="u-1", sequence=1, occurred_at=None, **order_changes) -> dict:
    """Return a valid UPDATE with the given id, key and order fields changed."""
    update = copy.deepcopy(BASE_UPDATE)
    update["update_id"] = update_id
    update["sequence"] = sequence
    if occurred_at is not None:
        update["occurred_at"] = (occurred_at.isoformat() if isinstance(occurred_at, datetime)
                                 else occurred_at)
    update["order"].update(order_changes)
    return update


@pytest.fixture
def api_key(make_api_key):
    return make_api_key()


class Api:
    """Post batches and read orders with an API key, the way a client does."""

    def __init__(self, client, key):
        self.client, self.key = client, key

    def headers(self, key=None):
        return {"Authorization": f"Bearer {key or self.key}"}

    def post(self, *updates, key=None):
        return self.client.post("/api/v1/updates", json={"updates": list(updates)},
                                headers=self.headers(key))

    def results(self, *updates):
        response = self.post(*updates)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [r["result"] for r in response.get_json()["results"]]

    def order(self, number, key=None):
        return self.client.get(f"/api/v1/orders/{number}", headers=self.headers(key))


@pytest.fixture
def api(client, api_key):
    return Api(client, api_key)


@pytest.fixture
def utc():
    return lambda *args: datetime(*args, tzinfo=timezone.utc)
