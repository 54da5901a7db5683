"""Operator commands run through Flask's CLI runner, and init-db on real databases."""
import json
import os
import subprocess
import sys
import uuid
from datetime import date

import pytest
from sqlalchemy import create_engine, inspect, select, text

from oss_server import create_app
from oss_server.config import normalise_database_url
from oss_server.extensions import db
from oss_server.models import ApiKey, Base, Merchant, Order, Store
from oss_server.services.carriers import link_for


def test_merchant_store_key_renew_flow(runner, session):
    result = runner.invoke(args=["create-merchant", "owner@example.com"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-store", "owner@example.com", "acme", "--name", "Acme"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-api-key", "acme", "--label", "om"])
    assert result.exit_code == 0
    key = result.output.strip()
    assert key.startswith("oss_") and "\n" not in key
    assert session.scalar(select(ApiKey.label)) == "om"
    result = runner.invoke(args=["renew", "owner@example.com", "--until", "2030-01-31"])
    assert result.exit_code == 0
    session.expire_all()
    assert session.scalar(select(Merchant.paid_through)) == date(2030, 1, 31)


def test_short_password_is_refused(runner, session):
    result = runner.invoke(args=["create-merchant", "x@example.com"], input="short\n")
    assert result.exit_code != 0
    assert "at least 12" in result.output
    assert session.scalar(select(Merchant.id)) is None


def test_unknown_store_is_a_clear_error(runner):
    result = runner.invoke(args=["create-api-key", "nope"])
    assert result.exit_code != 0 and "No store" in result.output


def test_store_settings_show_and_set(runner, make_store, session):
    store = make_store(slug="shop-1")
    result = runner.invoke(args=["store-settings", "shop-1", "--set", "shopper_emails=true",
                                 "--set", "retention_days=90",
                                 "--set", "allowed_origins=https://shop.example"])
    assert result.exit_code == 0, result.output
    assert "retention_days = 90" in result.output
    assert "allowed_origins = https://shop.example" in result.output
    session.expire_all()
    assert session.get(Store, store.id).shopper_emails is True
    bad = runner.invoke(args=["store-settings", "shop-1", "--set", "retention_days=5"])
    assert bad.exit_code != 0 and "between 30 and 730" in bad.output
    assert session.get(Store, store.id).retention_days == 90


ONTRAC_RULES = ('[{"carrier": "OnTrac", "url": "https://www.ontrac.com/tracking/?number={n}", '
                '"patterns": ["C##############"], "check": "none"}]')


def test_store_settings_set_carrier_rules_as_json(runner, make_store, session):
    store = make_store(slug="shop-1")
    shown = runner.invoke(args=["store-settings", "shop-1"])
    assert "carrier_rules = []" in shown.output
    result = runner.invoke(args=["store-settings", "shop-1", "--set",
                                 f"carrier_rules={ONTRAC_RULES}"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("carrier_rules = "))
    rules = json.loads(line.removeprefix("carrier_rules = "))
    assert rules == [{"carrier": "OnTrac", "url": "https://www.ontrac.com/tracking/?number={n}",
                      "patterns": ["C##############"], "check": "none"}]
    session.expire_all()
    stored = session.get(Store, store.id).carrier_rules
    assert stored == rules
    link = link_for("C12345678901234", None, stored)
    assert (link.carrier, link.url) == (
        "OnTrac", "https://www.ontrac.com/tracking/?number=C12345678901234")
    # What store-settings shows is what it accepts.
    again = runner.invoke(args=["store-settings", "shop-1", "--set", line.replace(" = ", "=", 1)])
    assert again.exit_code == 0, again.output
    session.expire_all()
    assert session.get(Store, store.id).carrier_rules == rules


@pytest.mark.parametrize("value,message", [
    ('[{"carrier": "OnTrac", "url": ', "Carrier rules are not valid JSON"),
    ("{'carrier': 'OnTrac'}", "Carrier rules are not valid JSON"),
    ('{"carrier": "OnTrac"}', "Carrier rules are a list"),
    ('[{"carrier": "OnTrac", "url": "http://ontrac.example/{n}"}]',
     "OnTrac: the URL must start with https:// and contain {n}."),
    ('[{"carrier": "OnTrac", "regex": ".*"}]', "carrier, url, patterns and check only"),
    ('[{"carrier": "OnTrac", "check": ["mod10"]}]', "OnTrac: check is one of"),
    ('[{"carrier": "X\\nY", "check": "luhn"}]', "X Y: check is one of"),
])
def test_store_settings_refuses_bad_carrier_rules(runner, make_store, session, value, message):
    store = make_store(slug="shop-1")
    runner.invoke(args=["store-settings", "shop-1", "--set", f"carrier_rules={ONTRAC_RULES}"])
    bad = runner.invoke(args=["store-settings", "shop-1", "--set", "retention_days=90",
                              "--set", f"carrier_rules={value}"])
    assert bad.exit_code != 0
    assert message in bad.output
    assert len(bad.output.strip().splitlines()) == 1, bad.output
    session.expire_all()
    stored = session.get(Store, store.id)
    assert [rule["carrier"] for rule in stored.carrier_rules] == ["OnTrac"]
    assert stored.retention_days != 90  # nothing of the refused command is saved


def test_demo_seeds_orders_and_prints_lookup(runner, session):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "/s/demo/" in result.output and "1002" in result.output and "90210" in result.output
    assert session.scalar(select(Order.status).where(Order.order_number == "1002")) == "Shipped"
    again = runner.invoke(args=["demo"])  # idempotent
    assert again.exit_code == 0


def test_purge_command(runner):
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0 and "Purged 0 orders" in result.output


def _migrated_tables(url: str) -> set[str]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    return tables


def test_init_db_upgrades_an_empty_sqlite_database(tmp_path):
    tables = _migrated_tables(f"sqlite:///{tmp_path}/fresh.db")
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_migrations_match_the_models(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url = f"sqlite:///{tmp_path}/fresh.db"
    _migrated_tables(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_init_db_upgrades_an_empty_postgresql_database():
    base = os.environ.get("OSS_TEST_POSTGRES_ADMIN_URL",
                          "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        admin = create_engine(normalise_database_url(base), isolation_level="AUTOCOMMIT")
        admin.connect().close()
    except Exception as exc:  # noqa: BLE001 - any failure means no server to test against
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable: {type(exc).__name__}")
    name = f"oss_migrate_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = normalise_database_url(base.rsplit("/", 1)[0] + "/" + name)
        tables = _migrated_tables(url)
        assert set(Base.metadata.tables) <= tables
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_console_script_runs_as_a_flask_group(tmp_path):
    env = {**os.environ, "OSS_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db"}
    exe = os.path.join(os.path.dirname(sys.executable), "oss-server")
    out = subprocess.run([exe, "init-db"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    out = subprocess.run([exe, "demo"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "/s/demo/" in out.stdout
    out = subprocess.run([exe, "--help"], env=env, capture_output=True, text=True, timeout=60)
    for command in ("db", "init-db", "create-api-key", "store-settings", "demo", "purge",
                    "send-notifications", "run"):
        assert f"  {command} " in out.stdout, command
