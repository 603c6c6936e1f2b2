"""index_nodes: each node's position in the change sequence, and the pruning watermark

Revision ID: 0012_index_nodes
Revises: 0011_index_changes
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_index_nodes"
down_revision = "0011_index_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_nodes",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("applied_seq", sa.BigInteger, nullable=False),
        sa.Column("seen_at", sa.Float, nullable=False),
    )
    op.create_index("ix_index_changes_at", "index_changes", ["at"])


def downgrade() -> None:
    op.drop_index("ix_index_changes_at", "index_changes")
    op.drop_table("index_nodes")
