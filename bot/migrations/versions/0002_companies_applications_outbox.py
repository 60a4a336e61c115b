"""companies, link codes, applications, status history, outbox

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("nib", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("npwp", sa.String(32)),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("nib", name="uq_companies_nib"),
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("company_id", sa.Integer()))
        batch.add_column(sa.Column("linked_at", TS))
        batch.add_column(sa.Column("blocked_at", TS))
        batch.create_foreign_key("fk_users_company", "companies", ["company_id"], ["id"], ondelete="SET NULL")
        batch.create_index("ix_users_company_id", ["company_id"])
    op.create_table(
        "link_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column(
            "company_id",
            sa.Integer(),
            sa.ForeignKey("companies.id", name="fk_link_codes_company", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_by", sa.BigInteger()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS),
        sa.Column("used_by", sa.BigInteger()),
        sa.UniqueConstraint("code_hash", name="uq_link_codes_code_hash"),
    )
    op.create_table(
        "link_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_link_attempts_user_id", "link_attempts", ["user_id"])
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column(
            "company_id",
            sa.Integer(),
            sa.ForeignKey("companies.id", name="fk_applications_company"),
            nullable=False,
        ),
        sa.Column("commodity", sa.String(120), nullable=False, server_default=""),
        sa.Column("hs_code", sa.String(16), nullable=False, server_default=""),
        sa.Column("destination", sa.String(64), nullable=False, server_default=""),
        sa.Column("form", sa.String(64), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("volume_tonnes", sa.Numeric(14, 3)),
        sa.Column("value_usd", sa.Numeric(16, 2)),
        sa.Column("shipment_date", sa.Date()),
        sa.Column("submitted_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("ref", name="uq_applications_ref"),
    )
    op.create_index("ix_applications_company_id", "applications", ["company_id"])
    op.create_index("ix_applications_status", "applications", ["status"])
    op.create_table(
        "status_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "application_id",
            sa.Integer(),
            sa.ForeignKey("applications.id", name="fk_status_events_application", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_status_events_application_id", "status_events", ["application_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reply_markup", sa.Text()),
        sa.Column("kind", sa.String(32), nullable=False, server_default="notice"),
        sa.Column("dedupe_key", sa.String(128)),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS),
        sa.Column("telegram_message_id", sa.BigInteger()),
        sa.Column("last_error", sa.Text()),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
    )
    op.create_index("ix_outbox_chat_id", "outbox", ["chat_id"])
    op.create_index("ix_outbox_status", "outbox", ["status"])
    op.create_index("ix_outbox_next_attempt_at", "outbox", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("status_events")
    op.drop_table("applications")
    op.drop_table("link_attempts")
    op.drop_table("link_codes")
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_company_id")
        batch.drop_constraint("fk_users_company", type_="foreignkey")
        batch.drop_column("blocked_at")
        batch.drop_column("linked_at")
        batch.drop_column("company_id")
    op.drop_table("companies")
