"""answer log: every answer with its passages, path, check and labels (the quality audit)

Revision ID: 0007_answer_log
Revises: 0006_answer_path
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_answer_log"
down_revision = "0006_answer_path"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("actor", sa.String(256), nullable=True),
        sa.Column("message_id", sa.Integer, nullable=True),
        sa.Column("collections", sa.Text, nullable=False, server_default=""),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("model_answer", sa.Text, nullable=False, server_default=""),
        sa.Column("path", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("retrieved", sa.Text, nullable=False, server_default="[]"),
        sa.Column("shown", sa.Text, nullable=False, server_default="[]"),
        sa.Column("citations", sa.Text, nullable=False, server_default="[]"),
        sa.Column("check_result", sa.Text, nullable=False, server_default="{}"),
        sa.Column("timings", sa.Text, nullable=False, server_default="{}"),
        sa.Column("model_sha256", sa.String(64), nullable=False, server_default=""),
        sa.Column("adapter_sha256", sa.String(64), nullable=True),
        sa.Column("suggestion", sa.String(24), nullable=True),
        sa.Column("suggestion_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("label", sa.String(24), nullable=True),
        sa.Column("labelled_by", sa.String(256), nullable=True),
        sa.Column("labelled_at", sa.Float, nullable=True),
        sa.Column("correction", sa.Text, nullable=True),
        sa.Column("review", sa.String(16), nullable=False, server_default="pending"),
    )
    op.create_index("ix_answer_log_created", "answer_log", ["created_at"])
    op.create_index("ix_answer_log_message", "answer_log", ["message_id"])
    op.create_index("ix_answer_log_review", "answer_log", ["review", "id"])


def downgrade() -> None:
    op.drop_index("ix_answer_log_review", "answer_log")
    op.drop_index("ix_answer_log_message", "answer_log")
    op.drop_index("ix_answer_log_created", "answer_log")
    op.drop_table("answer_log")
