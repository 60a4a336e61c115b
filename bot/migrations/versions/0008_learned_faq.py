"""learned FAQ entries in the database; proposal drafts an admin edits before approving

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "learned_faq",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),  # entry | sample
        sa.Column("entry_id", sa.String(64), nullable=False),  # learned-N, or the target
        sa.Column("category", sa.String(16), nullable=False, server_default="help"),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("title_id", sa.Text(), nullable=False, server_default=""),
        sa.Column("title_en", sa.Text(), nullable=False, server_default=""),
        sa.Column("answer_id", sa.Text(), nullable=False, server_default=""),
        sa.Column("answer_en", sa.Text(), nullable=False, server_default=""),
        sa.Column("id_only", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column(
            "proposal_id",
            sa.Integer(),
            sa.ForeignKey("faq_proposals.id", name="fk_learned_faq_proposal", ondelete="SET NULL"),
        ),
        sa.Column("approved_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_learned_faq_entry_id", "learned_faq", ["entry_id"])
    with op.batch_alter_table("faq_proposals") as batch:
        batch.add_column(sa.Column("draft_question", sa.Text(), nullable=True))
        batch.add_column(sa.Column("title_id", sa.Text(), nullable=True))
        batch.add_column(sa.Column("title_en", sa.Text(), nullable=True))
        batch.add_column(sa.Column("answer_id", sa.Text(), nullable=True))
        batch.add_column(sa.Column("answer_en", sa.Text(), nullable=True))
        batch.add_column(sa.Column("id_only", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("flags", sa.Text(), nullable=False, server_default=""))
        # the admin's "send the new text" prompt: its reply is the new value of edit_field
        batch.add_column(sa.Column("edit_field", sa.String(16), nullable=True))
        batch.add_column(sa.Column("edit_message_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("edit_chat_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("faq_proposals") as batch:
        for name in (
            "edit_chat_id",
            "edit_message_id",
            "edit_field",
            "flags",
            "id_only",
            "answer_en",
            "answer_id",
            "title_en",
            "title_id",
            "draft_question",
        ):
            batch.drop_column(name)
    op.drop_index("ix_learned_faq_entry_id", table_name="learned_faq")
    op.drop_table("learned_faq")
