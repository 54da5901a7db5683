"""Migration 0008 on SQLite: orders rebuilt with AUTOINCREMENT, nothing of theirs lost."""
from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from oss_server import create_app
from oss_server.extensions import db

REVISION = "0008_ids_and_sequence"


def _upgrade(url: str, revision: str) -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["db", "upgrade", revision])
        assert result.exit_code == 0, result.output
        db.engine.dispose()


def _insert(conn, table: str, **values) -> None:
    """INSERT a row, every other NOT NULL column of the table as it stands given a dummy."""
    for column in inspect(conn).get_columns(table):
        if column["nullable"] or column["default"] is not None or column["name"] in values:
            continue
        if column["name"] == "id":
            continue
        kind = str(column["type"]).upper()
        values[column["name"]] = ("2026-01-01 00:00:00" if "DATE" in kind
                                  else 0 if "INT" in kind or "BOOL" in kind else "x")
    names = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), values)


def _seed(conn) -> None:
    _insert(conn, "merchants", id=1, email="m@x.test")
    _insert(conn, "stores", id=1, merchant_id=1, slug="s")
    for order_id in (1, 2, 3):
        _insert(conn, "orders", id=order_id, store_id=1, order_number=f"N{order_id}",
                order_key=f"n{order_id}", sequence=order_id)
        _insert(conn, "order_items", order_id=order_id, line_id="1")


def test_upgrade_keeps_every_line_and_stops_reusing_ids(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    _upgrade(url, "0007_portal_sessions")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        _seed(conn)
    engine.dispose()

    _upgrade(url, REVISION)

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        assert conn.exec_driver_sql("SELECT count(*) FROM order_items").scalar() == 3
        sql = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'orders'").scalar()
        assert "AUTOINCREMENT" in sql and "sequence BIGINT" in sql
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        conn.exec_driver_sql("DELETE FROM orders WHERE id = 3")
        assert conn.exec_driver_sql("SELECT count(*) FROM order_items").scalar() == 2
        _insert(conn, "orders", store_id=1, order_number="N4", order_key="n4",
                sequence=2**63 - 1)
        new_id, sequence = conn.exec_driver_sql(
            "SELECT id, sequence FROM orders WHERE order_number = 'N4'").one()
    engine.dispose()
    assert new_id == 4 and sequence == 2**63 - 1


def test_upgrade_in_one_run_from_an_older_revision(tmp_path):
    # Earlier revisions write in the same run: the rebuild still runs with foreign keys off.
    url = f"sqlite:///{tmp_path}/run.db"
    _upgrade(url, "0005_totp_step")
    _upgrade(url, REVISION)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert "AUTOINCREMENT" in conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'orders'").scalar()
    engine.dispose()
