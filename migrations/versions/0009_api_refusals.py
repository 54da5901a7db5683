"""refused API requests counted per store, hour, cause and key id

Revision ID: 0009_api_refusals
Revises: 0008_ids_and_sequence
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_api_refusals"
down_revision = "0008_ids_and_sequence"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_refusals",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], ondelete="CASCADE",
                                name=op.f("fk_api_refusals_store_id_stores")),
        sa.PrimaryKeyConstraint("store_id", "hour", "cause", "key_id",
                                name=op.f("pk_api_refusals")),
    )


def downgrade():
    op.drop_table("api_refusals")
