"""each read of orders served by one index, with or without planner statistics

Revision ID: 0011_one_index_per_read
Revises: 0010_shopper_wording

Before its first ANALYZE PostgreSQL rated every index leading with ``store_id`` alike for
``store_id = ?`` and read a lookup, a status page or a batch's orders along whichever it
met first, often the store's orders by update time. The order and cart number indexes
now lead with the number, and the store's index by update time (now with the id, so the
portal's listing needs no sort) only serves reads that name ``updated_at``. SQLite keeps
its unique constraint inside the table, so the table is rebuilt there (as in 0008).
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_one_index_per_read"
down_revision = "0010_shopper_wording"
branch_labels = None
depends_on = None

_LISTED = "updated_at IS NOT NULL"


def upgrade():
    _replace(["order_key", "store_id"], ["cart_key", "store_id"],
             ["store_id", "updated_at", "id"], _LISTED)


def downgrade():
    _replace(["store_id", "order_key"], ["store_id", "cart_key"], ["store_id", "updated_at"], None)


def _replace(unique_key, cart_key, updated, where) -> None:
    options = {} if where is None else {"sqlite_where": sa.text(where),
                                        "postgresql_where": sa.text(where)}
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_orders(unique_key)
    else:
        op.drop_constraint("uq_orders_store_order_key", "orders", type_="unique")
        op.create_unique_constraint("uq_orders_store_order_key", "orders", unique_key)
    op.drop_index("ix_orders_store_cart_key", table_name="orders")
    op.create_index("ix_orders_store_cart_key", "orders", cart_key)
    op.drop_index("ix_orders_store_updated", table_name="orders")
    op.create_index("ix_orders_store_updated", "orders", updated, **options)


def _rebuild_orders(unique_key) -> None:
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
                                  table_kwargs={"sqlite_autoincrement": True}) as batch:
            batch.drop_constraint("uq_orders_store_order_key", type_="unique")
            batch.create_unique_constraint("uq_orders_store_order_key", unique_key)
        if driver.execute("PRAGMA foreign_key_check").fetchall():
            raise RuntimeError("rebuilding orders left rows without their order")
        driver.commit()
    except BaseException:
        driver.rollback()
        raise
    finally:
        driver.execute("PRAGMA foreign_keys=ON")
