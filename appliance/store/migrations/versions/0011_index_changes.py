"""index_changes: the change sequence each node's FAISS and BM25 replicas tail

Revision ID: 0011_index_changes
Revises: 0010_directory_users
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_index_changes"
down_revision = "0010_directory_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_changes",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("chunk_id", sa.BigInteger, nullable=False),
        sa.Column("op", sa.String(1), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("index_changes")
