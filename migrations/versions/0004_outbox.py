"""outbox for shopper and account emails

Revision ID: 0004_outbox
Revises: 0003_portal
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_outbox"
down_revision = "0003_portal"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("from_name", sa.String(length=120), nullable=True),
        sa.Column("reply_to", sa.String(length=254), nullable=True),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"],
                                name=op.f("fk_outbox_store_id_stores"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"],
                                name=op.f("fk_outbox_order_id_orders"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_state_next_attempt", ["state", "next_attempt_at"],
                              unique=False)
        batch_op.create_index("ix_outbox_store_state", ["store_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_order_id"), ["order_id"], unique=False)


def downgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_order_id"))
        batch_op.drop_index("ix_outbox_store_state")
        batch_op.drop_index("ix_outbox_state_next_attempt")
    op.drop_table("outbox")
