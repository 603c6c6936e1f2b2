"""sources: watched folders and the files seen in them (knowledge freshness); adapters
flagged when examples they were trained on are erased

Revision ID: 0008_sources
Revises: 0007_answer_log
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_sources"
down_revision = "0007_answer_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("path", sa.String(1024), nullable=False, unique=True),
        sa.Column("collection", sa.String(128), nullable=False),
        sa.Column("include", sa.Text, nullable=False, server_default="[]"),
        sa.Column("exclude", sa.Text, nullable=False, server_default="[]"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_sync_at", sa.Float, nullable=True),
        sa.Column("last_ok_at", sa.Float, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_counts", sa.Text, nullable=False, server_default="{}"),
        sa.Column("pending", sa.Integer, nullable=False, server_default="0"),
        sa.Column("pending_since", sa.Float, nullable=True),
    )
    op.create_table(
        "source_files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("relpath", sa.String(1024), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("document_id", sa.Integer,
                  sa.ForeignKey("documents.id", ondelete="SET NULL"), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("synced_at", sa.Float, nullable=False),
        sa.UniqueConstraint("source_id", "relpath", name="uq_source_files_path"),
    )
    op.create_index("ix_source_files_source_id", "source_files", ["source_id"])
    op.create_index("ix_source_files_sha256", "source_files", ["sha256"])
    op.create_index("ix_source_files_document_id", "source_files", ["document_id"])
    with op.batch_alter_table("adapters") as batch:
        batch.add_column(sa.Column("erased_data", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("adapters") as batch:
        batch.drop_column("erased_data")
    op.drop_index("ix_source_files_document_id", "source_files")
    op.drop_index("ix_source_files_sha256", "source_files")
    op.drop_index("ix_source_files_source_id", "source_files")
    op.drop_table("source_files")
    op.drop_table("sources")
