"""portal sessions kept on the server, so signing out ends them

Revision ID: 0007_portal_sessions
Revises: 0006_shopper_locale
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_portal_sessions"
down_revision = "0006_shopper_locale"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "portal_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"], ondelete="CASCADE",
                                name=op.f("fk_portal_sessions_merchant_id_merchants")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_portal_sessions")),
    )
    op.create_index(op.f("ix_portal_sessions_merchant_id"), "portal_sessions", ["merchant_id"])


def downgrade():
    op.drop_index(op.f("ix_portal_sessions_merchant_id"), table_name="portal_sessions")
    op.drop_table("portal_sessions")
