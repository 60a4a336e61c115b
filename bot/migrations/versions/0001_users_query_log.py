"""users and query log

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("first_name", sa.String(128), nullable=False, server_default=""),
        sa.Column("username", sa.String(64)),
        sa.Column("language", sa.String(2), nullable=False, server_default="id"),
        sa.Column("language_chosen", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("role", sa.String(16), nullable=False, server_default="exporter"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "query_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.BigInteger(),
            sa.ForeignKey("users.id", name="fk_query_log_user", ondelete="SET NULL"),
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("matched_id", sa.String(64)),
        sa.Column("score", sa.Float(), nullable=False, server_default="0"),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("feedback", sa.SmallInteger()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_query_log_user_id", "query_log", ["user_id"])
    op.create_index("ix_query_log_matched_id", "query_log", ["matched_id"])
    op.create_index("ix_query_log_outcome", "query_log", ["outcome"])
    op.create_index("ix_query_log_created_at", "query_log", ["created_at"])


def downgrade() -> None:
    op.drop_table("query_log")
    op.drop_table("users")
