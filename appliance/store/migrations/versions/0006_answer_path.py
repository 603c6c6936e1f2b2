"""messages: how an answer came about (generated, quoted, refused) and why

Revision ID: 0006_answer_path
Revises: 0005_answer_calibration
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_answer_path"
down_revision = "0005_answer_calibration"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("path", sa.String(16), nullable=False,
                                   server_default="generated"))
        batch.add_column(sa.Column("path_reason", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("path_reason")
        batch.drop_column("path")
