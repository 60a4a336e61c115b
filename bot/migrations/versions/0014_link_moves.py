"""link_codes records moves between companies: offered_to, replaced_company_id

An account is linked to one company. A code for another company no longer moves a linked
account at once: the exporter is asked first, with a button that carries the code's id,
and `offered_to` names the one account whose press counts. `replaced_company_id` keeps
the company the account left, so link_codes tells who linked to which company, when and
from where.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("link_codes") as batch:
        batch.add_column(sa.Column("offered_to", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("replaced_company_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_link_codes_replaced_company",
            "companies",
            ["replaced_company_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("link_codes") as batch:
        batch.drop_constraint("fk_link_codes_replaced_company", type_="foreignkey")
        batch.drop_column("replaced_company_id")
        batch.drop_column("offered_to")
