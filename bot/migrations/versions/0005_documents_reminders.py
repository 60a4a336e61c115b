"""document checklists, uploads, reminders, broadcasts; reminder opt-out per user

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _app_fk(table: str) -> sa.Column:
    return sa.Column(
        "application_id",
        sa.Integer(),
        sa.ForeignKey("applications.id", name=f"fk_{table}_application", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("reminders_enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_table(
        "application_documents",
        sa.Column("id", sa.Integer(), primary_key=True),
        _app_fk("application_documents"),
        sa.Column("doc_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("changed_by", sa.String(64), nullable=False, server_default=""),
        sa.Column("changed_at", TS, nullable=False),
        sa.UniqueConstraint("application_id", "doc_id", name="uq_application_documents_app_doc"),
    )
    op.create_index("ix_application_documents_application_id", "application_documents", ["application_id"])
    op.create_index("ix_application_documents_status", "application_documents", ["status"])
    op.create_table(
        "document_uploads",
        sa.Column("id", sa.Integer(), primary_key=True),
        _app_fk("document_uploads"),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("doc_id", sa.String(32)),
        sa.Column("file_id", sa.String(256), nullable=False),
        sa.Column("file_unique_id", sa.String(64), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False, server_default=""),
        sa.Column("mime_type", sa.String(64), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="choosing"),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("group_message_id", sa.BigInteger()),
        sa.Column("decided_by", sa.BigInteger()),
        sa.Column("decided_at", TS),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_document_uploads_application_id", "document_uploads", ["application_id"])
    op.create_index("ix_document_uploads_user_id", "document_uploads", ["user_id"])
    op.create_index("ix_document_uploads_status", "document_uploads", ["status"])
    op.create_table(
        "upload_intents",
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        _app_fk("upload_intents"),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), primary_key=True),
        _app_fk("reminders"),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, server_default="exporter"),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("outbox_id", sa.Integer()),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("application_id", "chat_id", "local_date", name="uq_reminders_app_chat_day"),
    )
    op.create_index("ix_reminders_application_id", "reminders", ["application_id"])
    op.create_index("ix_reminders_outbox_id", "reminders", ["outbox_id"])
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("audience", sa.String(16), nullable=False, server_default="all"),
        sa.Column("commodity", sa.String(120)),
        sa.Column("commodities", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("recipients", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("skipped_blocked", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("queued_at", TS),
        sa.Column("done_at", TS),
    )
    op.create_index("ix_broadcasts_status", "broadcasts", ["status"])


def downgrade() -> None:
    op.drop_table("broadcasts")
    op.drop_table("reminders")
    op.drop_table("upload_intents")
    op.drop_table("document_uploads")
    op.drop_table("application_documents")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("reminders_enabled")
