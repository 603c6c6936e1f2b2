"""accounts: users, groups, collections and grants, web sessions, API tokens, login
throttling, conversations, messages, feedback

Revision ID: 0003_accounts
Revises: 0002_audit
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_accounts"
down_revision = "0002_audit"
branch_labels = None
depends_on = None


def _fk(column: str, target: str, **kw) -> sa.Column:
    return sa.Column(column, sa.Integer, sa.ForeignKey(target, ondelete="CASCADE"),
                     nullable=False, **kw)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("password_changed_at", sa.Float, nullable=False),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.UniqueConstraint("name", name="uq_groups_name"),
    )
    op.create_table(
        "user_groups",
        _fk("user_id", "users.id", primary_key=True),
        _fk("group_id", "groups.id", primary_key=True),
    )
    op.create_table(
        "collections",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "collection_grants",
        _fk("group_id", "groups.id", primary_key=True),
        sa.Column("collection", sa.String(128),
                  sa.ForeignKey("collections.name", ondelete="CASCADE"), primary_key=True),
        sa.Column("can_write", sa.Boolean, nullable=False),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        _fk("user_id", "users.id"),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_seen_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("user_id", "users.id"),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_used_at", sa.Float, nullable=True),
        sa.Column("revoked_at", sa.Float, nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_start", sa.Float, nullable=False),
        sa.Column("locked_until", sa.Float, nullable=True),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("user_id", "users.id"),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_conversations_user_updated", "conversations", ["user_id", "updated_at"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("conversation_id", "conversations.id"),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("citations", sa.Text, nullable=False),
        sa.Column("refused", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_messages_conversation", "messages", ["conversation_id", "id"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("message_id", "messages.id"),
        _fk("user_id", "users.id"),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("correction", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("message_id", "user_id", name="uq_feedback_message_user"),
    )


def downgrade() -> None:
    for index, table in (("ix_messages_conversation", "messages"),
                         ("ix_conversations_user_updated", "conversations"),
                         ("ix_api_tokens_user_id", "api_tokens"),
                         ("ix_web_sessions_user_id", "web_sessions")):
        op.drop_index(index, table)
    for table in ("feedback", "messages", "conversations", "login_throttle", "api_tokens",
                  "web_sessions", "collection_grants", "collections", "user_groups", "groups",
                  "users"):
        op.drop_table(table)
