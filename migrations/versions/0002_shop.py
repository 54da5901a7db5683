"""shop: lookup failure counters and per-day lookup tallies

Revision ID: 0002_shop
Revises: 0001_initial
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_shop"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "lookup_failures",
        sa.Column("bucket", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_lookup_failures")),
    )
    with op.batch_alter_table("lookup_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lookup_failures_expires_at"), ["expires_at"],
                              unique=False)
    op.create_table(
        "lookup_stats",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("not_found", sa.Integer(), nullable=False),
        sa.Column("limited", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"],
                                name=op.f("fk_lookup_stats_store_id_stores"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("store_id", "day", name=op.f("pk_lookup_stats")),
    )


def downgrade():
    op.drop_table("lookup_stats")
    with op.batch_alter_table("lookup_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lookup_failures_expires_at"))
    op.drop_table("lookup_failures")
