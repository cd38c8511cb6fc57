"""district: the figures' indexes carry origin_tenant_id again, so PostgreSQL answers a period from them alone

Revision ID: 0036_district
Revises: 0035_mend

0014_district made the district's figures read each period from an index alone (index-only scans: the time first,
what the figures count INCLUDEd). Since 0029_reorghist every figures query also groups by where a record came from,
``COALESCE(origin_tenant_id, tenant_id)``, and origin_tenant_id is in none of these indexes: PostgreSQL fetches
every row of the period from the table again (2 million dossiers for twelve months at national scale). This adds
it to the INCLUDE of each (issue #17). On SQLite INCLUDE does not exist and nothing changes (the indexes are dropped
and created as they were). Each index is rebuilt in the migration's transaction: the table is locked against
writes while it is (about a minute for the 2 million dossiers of the scale data); run it out of hours.
"""
from alembic import op
from sqlalchemy import text

# revision identifiers, used by Alembic.
revision = '0036_district'
down_revision = '0035_mend'
branch_labels = None
depends_on = None

# (name, table, key columns, INCLUDE before, WHERE): the indexes of 0014_district
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


def _create(name, table, columns, include, where):
    options = {}
    if include:
        options["postgresql_include"] = include
    if where:
        options["postgresql_where"] = text(where)
        options["sqlite_where"] = text(where)
    op.create_index(name, table, columns, **options)


def upgrade():
    for name, table, columns, include, where in INDEXES:
        op.drop_index(name, table_name=table)
        _create(name, table, columns, [*include, "origin_tenant_id"], where)


def downgrade():
    for name, table, columns, include, where in reversed(INDEXES):
        op.drop_index(name, table_name=table)
        _create(name, table, columns, include, where)
