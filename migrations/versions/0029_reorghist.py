"""origin_tenant_id on the records the district's figures count: where a reorganisation moved them from (#18)

Revision ID: 0029_reorghist
Revises: 0027_tenant_tax_code
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0029_reorghist'
down_revision = '0027_tenant_tax_code'
branch_labels = None
depends_on = None

# The tables of the models that mix in tenants.scoping.RemembersOrigin. Null: never moved (the tenant is the
# origin), so no backfill; a database that applied a reorganisation before this revision has lost where its moved
# records came from (docs/decisions.md, "Figures that stay true").
TABLES = ("onestop_dossiers", "onestop_ratings", "market_sales", "vendors", "payment_intents", "heritage_relics",
          "heritage_artefacts", "heritage_steles", "heritage_boards", "heritage_board_scans", "products", "sub_orders")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("origin_tenant_id", sa.Integer(), nullable=True))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("origin_tenant_id")
