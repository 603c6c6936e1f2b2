"""adapter registry: the refusal bias calibrated by `tune eval`

Revision ID: 0005_refusal_bias
Revises: 0004_adapters
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_refusal_bias"
down_revision = "0004_adapters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("adapters") as batch:
        batch.add_column(sa.Column("refusal_bias", sa.Float, nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("adapters") as batch:
        batch.drop_column("refusal_bias")
