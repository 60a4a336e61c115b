"""query_log: drop the indexes on matched_id and outcome

Every exporter question inserts a query_log row, and each index is one more page
written per insert (on SQLite one more WAL frame and its writes). No query looks rows up
by matched_id or by outcome: the gap report, /stats, the spike check and the last
question all select by created_at or user_id (whose indexes stay) and only filter on
these two columns among the rows found.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_query_log_matched_id", table_name="query_log")
    op.drop_index("ix_query_log_outcome", table_name="query_log")


def downgrade() -> None:
    op.create_index("ix_query_log_outcome", "query_log", ["outcome"])
    op.create_index("ix_query_log_matched_id", "query_log", ["matched_id"])
