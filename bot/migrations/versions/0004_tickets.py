"""officer queue: tickets, their messages, FAQ proposals

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "company_id",
            sa.Integer(),
            sa.ForeignKey("companies.id", name="fk_tickets_company", ondelete="SET NULL"),
        ),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("claimed_by", sa.BigInteger()),
        sa.Column("claimed_by_name", sa.String(128)),
        sa.Column("card_message_id", sa.BigInteger()),
        sa.Column("exporter_attached", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("bot_tried", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("first_response_at", TS),
        sa.Column("closed_at", TS),
        sa.Column("closed_by", sa.BigInteger()),
        sa.Column("summary", sa.Text()),
        sa.Column("waiting_since", TS),
        sa.Column("paused_seconds", sa.Float(), nullable=False, server_default="0"),
        sa.Column("sla_warned_at", TS),
        sa.Column("sla_breached_at", TS),
        sa.Column("first_response_seconds", sa.Float()),
        sa.Column("resolution_seconds", sa.Float()),
        sa.Column("rating", sa.SmallInteger()),
        sa.Column("rating_comment", sa.Text()),
    )
    op.create_index("ix_tickets_user_id", "tickets", ["user_id"])
    op.create_index("ix_tickets_status", "tickets", ["status"])
    op.create_index("ix_tickets_card_message_id", "tickets", ["card_message_id"])
    op.create_table(
        "ticket_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", name="fk_ticket_messages_ticket", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("group_message_id", sa.BigInteger()),
        sa.Column("outbox_id", sa.Integer()),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_ticket_messages_ticket_id", "ticket_messages", ["ticket_id"])
    op.create_index("ix_ticket_messages_group_message_id", "ticket_messages", ["group_message_id"])
    op.create_table(
        "faq_proposals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.Integer(),
            sa.ForeignKey("tickets.id", name="fk_faq_proposals_ticket", ondelete="SET NULL"),
        ),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("target_id", sa.String(64)),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False, server_default=""),
        sa.Column("proposed_by", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("decided_by", sa.BigInteger()),
        sa.Column("decided_at", TS),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_faq_proposals_status", "faq_proposals", ["status"])


def downgrade() -> None:
    op.drop_table("faq_proposals")
    op.drop_table("ticket_messages")
    op.drop_table("tickets")
