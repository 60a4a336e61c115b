"""outbox priority: bulk messages (broadcasts, reminders) wait behind everything else

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("priority", sa.SmallInteger(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE outbox SET priority = 1 WHERE kind = 'broadcast' OR kind LIKE 'reminder\\_%' ESCAPE '\\'"
    )
    op.create_index("ix_outbox_priority_id", "outbox", ["priority", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_priority_id", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("priority")
