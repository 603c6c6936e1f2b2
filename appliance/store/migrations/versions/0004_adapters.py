"""adapter registry: versioned LoRA adapters with hashes, metrics and the active flag

Revision ID: 0004_adapters
Revises: 0003_accounts
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_adapters"
down_revision = "0003_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "adapters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("base_sha256", sa.String(64), nullable=False),
        sa.Column("data_sha256", sa.String(64), nullable=True),
        sa.Column("training", sa.Text, nullable=False),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(256), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("activated_by", sa.String(256), nullable=True),
        sa.Column("activated_at", sa.String(32), nullable=True),
        sa.UniqueConstraint("version", name="uq_adapters_version"),
    )
    op.create_index("ix_adapters_sha256", "adapters", ["sha256"])
    op.create_index("ix_adapters_active", "adapters", ["active"])


def downgrade() -> None:
    op.drop_index("ix_adapters_active", "adapters")
    op.drop_index("ix_adapters_sha256", "adapters")
    op.drop_table("adapters")
