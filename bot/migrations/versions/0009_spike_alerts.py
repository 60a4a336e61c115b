"""spike alerts: many exporters asking about the same trouble at once, alerted once

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "spike_alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("topic_id", sa.String(64), nullable=True),
        sa.Column("tokens", sa.Text(), nullable=False, server_default=""),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("samples", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("created_at", TS, nullable=False),
        # while questions of the same spike keep coming, it is the same spike: no new alert
        sa.Column("last_seen_at", TS, nullable=False),
    )
    op.create_index("ix_spike_alerts_last_seen_at", "spike_alerts", ["last_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_spike_alerts_last_seen_at", table_name="spike_alerts")
    op.drop_table("spike_alerts")
