"""document_uploads.mime_type holds the Office types (the XLSX one is 65 characters)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite does not enforce a VARCHAR's length (and would need the table rebuilt)
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column(
        "document_uploads",
        "mime_type",
        type_=sa.String(128),
        existing_type=sa.String(64),
        existing_nullable=False,
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column(
        "document_uploads",
        "mime_type",
        type_=sa.String(64),
        existing_type=sa.String(128),
        existing_nullable=False,
    )
