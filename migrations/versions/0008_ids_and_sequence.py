"""order ids never reused on SQLite; the update sequence 64-bit

Revision ID: 0008_ids_and_sequence
Revises: 0007_portal_sessions

A status link names its order by id. SQLite without AUTOINCREMENT hands the highest id
out again once that order is deleted, so an old link could open another shopper's
order; PostgreSQL sequences never go back. SQLite can only gain AUTOINCREMENT by
rebuilding the table. The client's ``sequence`` counter may run to 2^63 - 1 (a
millisecond clock), so its column becomes BIGINT.
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_ids_and_sequence"
down_revision = "0007_portal_sessions"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_orders(sa.BigInteger(), sa.Integer(), autoincrement=True)
    else:
        op.alter_column("orders", "sequence", type_=sa.BigInteger(),
                        existing_type=sa.Integer(), existing_nullable=False)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_orders(sa.Integer(), sa.BigInteger(), autoincrement=False)
    else:
        op.alter_column("orders", "sequence", type_=sa.Integer(),
                        existing_type=sa.BigInteger(), existing_nullable=False)


def _rebuild_orders(new_type, old_type, autoincrement: bool) -> None:
    """Rebuild SQLite's orders table (copy, drop, rename) with foreign keys off.

    With foreign keys on, dropping the old table would first delete its rows and, through
    ON DELETE CASCADE, every order's lines, tracking numbers and history. The pragma only
    takes effect outside a transaction, so what earlier revisions of this run wrote is
    committed first (the database then stands at the previous revision, consistently).
    """
    driver = op.get_bind().connection.driver_connection
    if driver.in_transaction:
        driver.commit()
    driver.execute("PRAGMA foreign_keys=OFF")
    if driver.execute("PRAGMA foreign_keys").fetchone()[0]:
        raise RuntimeError("could not turn SQLite's foreign keys off to rebuild orders")
    try:
        with op.batch_alter_table("orders", recreate="always",
                                  table_kwargs={"sqlite_autoincrement": autoincrement}) as batch:
            batch.alter_column("sequence", type_=new_type, existing_type=old_type,
                               existing_nullable=False)
        if driver.execute("PRAGMA foreign_key_check").fetchall():
            raise RuntimeError("rebuilding orders left rows without their order")
        driver.commit()
    except BaseException:
        driver.rollback()
        raise
    finally:
        driver.execute("PRAGMA foreign_keys=ON")
