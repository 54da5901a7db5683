"""Liveness, readiness, security headers and configuration rules."""
import pytest

from oss_server import create_app
from oss_server.config import ConfigError, load, secret_key


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_ok(client):
    assert client.get("/readyz").status_code == 200


def test_readyz_503_when_database_unreachable(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI":
                      f"sqlite:///{tmp_path}/missing/db.sqlite"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and "Retry-After" in response.headers


def test_security_headers(client):
    headers = client.get("/healthz").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "object-src 'none'" in headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in headers
    secure = client.get("/healthz", base_url="https://localhost")
    assert "max-age" in secure.headers["Strict-Transport-Security"]


def test_production_refuses_to_start_without_secret():
    with pytest.raises(ConfigError):
        load("/nonexistent", environ={"OSS_ENV": "production"})
    config = load("/nonexistent", environ={"OSS_ENV": "production", "OSS_SECRET_KEY": "s",
                                           "OSS_FACTOR_KEY": "f"})
    assert config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("value", [None, "", b"bytes-secret"])
def test_a_secret_key_that_signs_nothing_is_named(value):
    # Status, reset and enrolment links are signed with it: fail by name, not in a signer.
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        secret_key({"SECRET_KEY": value})
    assert secret_key({"SECRET_KEY": "s"}) == "s"


def test_postgresql_url_accepted_as_is():
    config = load("/i", environ={"OSS_DATABASE_URL": "postgresql://user@db:5432/oss"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://user@db:5432/oss"


def test_default_database_is_sqlite_in_instance_folder():
    assert load("/srv/inst", environ={})["SQLALCHEMY_DATABASE_URI"] == "sqlite:////srv/inst/oss.db"
