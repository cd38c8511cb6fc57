"""district: indexes for the district's figures across every commune, by time

Revision ID: 0014_district
Revises: 0013_catalogue

The district dashboard and /api/district/metrics aggregate every commune's rows of a period. The indexes that lead
with tenant_id cannot serve "every commune, received in November": on the national data set PostgreSQL read all
2,000,000 dossiers and every payment of every commune account (bench/README.md, "Scale data"). These lead with the
time the period is on and carry (INCLUDE, PostgreSQL) the columns the figures count, so that the aggregate reads the
period's index entries alone; the payments' and market sales' are partial (only succeeded payments and paid sales
are counted). On SQLite the same indexes without INCLUDE (the demo's 22 communes do not need them, the schema is
kept the same on both).

"""
from alembic import op
from sqlalchemy import text

# revision identifiers, used by Alembic.
revision = '0014_district'
down_revision = '0013_catalogue'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_onestop_dossiers_received_figures", "onestop_dossiers", ["received_at"],
     ["tenant_id", "id", "status", "channel", "fee_amount", "fee_method", "finished_on_time", "clock_paused_at",
      "due_at", "result_file_key"], None),
    ("ix_payment_intents_succeeded_at", "payment_intents", ["succeeded_at"],
     ["tenant_id", "account_id", "amount_received"], "status = 'succeeded'"),
    ("ix_products_published_tenant_vendor", "products", ["tenant_id", "vendor_id"], [], "status = 'published'"),
    ("ix_sub_orders_created_figures", "sub_orders", ["created_at"], ["tenant_id", "status", "subtotal"], None),
    ("ix_market_sales_paid_figures", "market_sales", ["paid_at"], ["tenant_id", "method", "amount"],
     "status = 'paid'"),
)


def upgrade():
    for name, table, columns, include, where in INDEXES:
        options = {}
        if include:
            options["postgresql_include"] = include
        if where:
            options["postgresql_where"] = text(where)
            options["sqlite_where"] = text(where)
        op.create_index(name, table, columns, **options)


def downgrade():
    for name, table, _columns, _include, _where in reversed(INDEXES):
        op.drop_index(name, table_name=table)
