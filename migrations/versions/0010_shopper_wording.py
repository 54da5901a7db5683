"""a store's time zone, for every date and time its shoppers see

Revision ID: 0010_shopper_wording
Revises: 0009_api_refusals

Labels worded per language and their tracker stages live in the store's label map
(JSON), which needs no new column.
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_shopper_wording"
down_revision = "0009_api_refusals"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("stores", sa.Column("timezone", sa.String(length=64), nullable=False,
                                      server_default="UTC"))


def downgrade():
    with op.batch_alter_table("stores") as batch:
        batch.drop_column("timezone")
