"""remember the language a shopper looked an order up in, for their status emails

Revision ID: 0006_shopper_locale
Revises: 0005_totp_step
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_shopper_locale"
down_revision = "0005_totp_step"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("orders", sa.Column("shopper_locale", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("shopper_locale")
