"""adapter registry: the refusal bias and answer-check threshold calibrated by `tune eval`

Revision ID: 0005_answer_calibration
Revises: 0004_adapters
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_answer_calibration"
down_revision = "0004_adapters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("adapters") as batch:
        batch.add_column(sa.Column("refusal_bias", sa.Float, nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("min_relevance", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("adapters") as batch:
        batch.drop_column("min_relevance")
        batch.drop_column("refusal_bias")
