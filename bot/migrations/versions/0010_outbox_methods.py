"""outbox carries every kind of message: method, payload, coalescing, the ticket it is about

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("method", sa.String(32), nullable=False, server_default="sendMessage"))
        batch.add_column(sa.Column("payload", sa.Text(), nullable=True))
        batch.add_column(sa.Column("coalesce_key", sa.String(64), nullable=True))
        batch.add_column(sa.Column("ref", sa.String(64), nullable=True))
    op.create_index("ix_outbox_coalesce_key", "outbox", ["coalesce_key"])
    op.create_index("ix_outbox_chat_message", "outbox", ["chat_id", "telegram_message_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_chat_message", table_name="outbox")
    op.drop_index("ix_outbox_coalesce_key", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        for column in ("ref", "coalesce_key", "payload", "method"):
            batch.drop_column(column)
