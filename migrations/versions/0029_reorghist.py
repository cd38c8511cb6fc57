"""origin_tenant_id on the records the district's figures count: where a reorganisation moved them from (#18)

Revision ID: 0029_reorghist
Revises: 0027_tenant_tax_code
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0029_reorghist'
down_revision = '0031_uxcart'
branch_labels = None
depends_on = None

# The tables of the models that mix in tenants.scoping.RemembersOrigin. Null: never moved (the tenant is the
# origin), so no backfill; a database that applied a reorganisation before this revision has lost where its moved
# records came from (docs/decisions.md, "Figures that stay true").
TABLES = ("onestop_dossiers", "onestop_ratings", "market_sales", "vendors", "payment_intents", "heritage_relics",
          "heritage_artefacts", "heritage_steles", "heritage_boards", "heritage_board_scans", "products", "sub_orders",
          "markets", "stalls")


# A plain ALTER TABLE ADD/DROP COLUMN (SQLite 3.35+ has both): no batch copy of the table, which SQLite's triggers
# on vendors and products (the catalogue) would not survive, and no rewrite of 200k dossiers on PostgreSQL.


def upgrade():
    for table in TABLES:
        op.add_column(table, sa.Column("origin_tenant_id", sa.Integer(), nullable=True))


def downgrade():
    for table in TABLES:
        op.drop_column(table, "origin_tenant_id")
