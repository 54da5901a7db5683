"""A pooled connection the database cut while it sat idle costs no request."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from oss_server.extensions import db
from oss_server.storage import pool_checks

APP_NAME = "oss-pool-check-test"


@pytest.fixture
def app_config(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("a connection cut by the server needs PostgreSQL")
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"application_name": APP_NAME}}}


def _cut_the_apps_connections(database_url) -> int:
    """Terminate every server process serving the app's pool, as a restart would."""
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name"), {"name": APP_NAME}).all())
    finally:
        admin.dispose()


def test_idle_connections_cut_by_the_database_are_replaced(app, client, make_store,
                                                          database_url, monkeypatch):
    monkeypatch.setattr(pool_checks, "IDLE_PING_S", 0.2)
    slug = make_store().slug
    db.session.remove()
    db.engine.pool.dispose()  # from here on, the pool holds only the requests' connections

    def get(path):
        # Each request in its own app context, as under a real server: the ORM session
        # (and its connection) ends with the request.
        with app.app_context():
            return client.get(path).status_code

    assert get(f"/s/{slug}/") == 200
    assert get("/readyz") == 200
    assert _cut_the_apps_connections(database_url) >= 1
    time.sleep(0.4)
    # Shopper page (Core connection) and readiness probe (ORM session) both find working
    # connections: the dead ones were noticed at checkout and replaced.
    assert get(f"/s/{slug}/") == 200
    assert get("/readyz") == 200


def test_a_connection_cut_while_fresh_fails_one_request_with_503(app, client, make_store,
                                                                 database_url):
    # Cut right after use, so no idle check runs: the shopper read on the driver's cursor
    # finds the connection dead, answers as any storage failure does, and the pool drops it.
    slug = make_store().slug
    db.session.remove()
    db.engine.pool.dispose()

    def get(path):
        with app.app_context():
            return client.get(path)

    assert get(f"/s/{slug}/").status_code == 200
    assert _cut_the_apps_connections(database_url) >= 1
    failed = get(f"/s/{slug}/")
    assert failed.status_code == 503 and int(failed.headers["Retry-After"]) >= 1
    assert get(f"/s/{slug}/").status_code == 200
