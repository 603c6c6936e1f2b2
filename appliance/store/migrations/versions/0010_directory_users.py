"""users.auth_source: accounts the directory (LDAP) manages, beside local ones

Revision ID: 0010_directory_users
Revises: 0009_models
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_directory_users"
down_revision = "0009_models"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("auth_source", sa.String(16), nullable=False,
                                   server_default="local"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("auth_source")
