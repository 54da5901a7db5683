"""remember the last accepted TOTP step, so a code cannot be replayed

Revision ID: 0005_totp_step
Revises: 0004_outbox
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_totp_step"
down_revision = "0004_outbox"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("merchants", sa.Column("totp_last_step", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("merchants") as batch:
        batch.drop_column("totp_last_step")
