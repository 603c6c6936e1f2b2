"""documents, chunks and ingest jobs

Revision ID: 0001_initial
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("collection", sa.String(128), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("mime_type", sa.String(128), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("collection", "name", name="uq_documents_collection_name"),
    )
    op.create_index("ix_documents_collection", "documents", ["collection"])
    op.create_index("ix_documents_sha256", "documents", ["sha256"])
    op.create_table(
        "chunks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("document_id", sa.Integer,
                  sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("document_version", sa.Integer, nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("page", sa.Integer, nullable=True),
        sa.Column("section", sa.String(512), nullable=True),
        sa.Column("token_count", sa.Integer, nullable=False),
        sa.Column("embedding", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_chunks_document_ordinal", "chunks", ["document_id", "ordinal"])
    op.create_table(
        "ingest_jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("collection", sa.String(128), nullable=False),
        sa.Column("files_total", sa.Integer, nullable=False),
        sa.Column("files_done", sa.Integer, nullable=False),
        sa.Column("files_failed", sa.Integer, nullable=False),
        sa.Column("chunks_added", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("ingest_jobs")
    op.drop_index("ix_chunks_document_ordinal", "chunks")
    op.drop_table("chunks")
    op.drop_index("ix_documents_sha256", "documents")
    op.drop_index("ix_documents_collection", "documents")
    op.drop_table("documents")
