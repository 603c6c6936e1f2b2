"""models: the model registry (GGUFs an operator brought, one of them serving)

Revision ID: 0009_models
Revises: 0008_sources
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_models"
down_revision = "0008_sources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("architecture", sa.String(64), nullable=False, server_default=""),
        sa.Column("parameters", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("quantization", sa.String(32), nullable=False, server_default=""),
        sa.Column("context_length", sa.Integer, nullable=False, server_default="0"),
        sa.Column("chat_template", sa.Text, nullable=True),
        sa.Column("license", sa.Text, nullable=False, server_default="{}"),
        sa.Column("frame", sa.String(16), nullable=False, server_default="completion"),
        sa.Column("added_by", sa.String(256), nullable=True),
        sa.Column("added_at", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("activated_by", sa.String(256), nullable=True),
        sa.Column("activated_at", sa.String(32), nullable=True),
    )
    op.create_index("ix_models_sha256", "models", ["sha256"])
    op.create_index("ix_models_active", "models", ["active"])


def downgrade() -> None:
    op.drop_index("ix_models_active", "models")
    op.drop_index("ix_models_sha256", "models")
    op.drop_table("models")
