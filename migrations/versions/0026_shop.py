"""shop: bounded holds on the marketplace (#16 item 1)

Revision ID: 0026_shop
Revises: 0020_audit

- orders.client_address, orders.address_key: the checkout's network address and its delivery address folded, each
  indexed with orders.phone, so the units held unpaid per client, per phone number and per address are counted
  before a checkout holds more (marketplace/services.py, check_hold_limits).
- market_sales: a sale may be ``voided`` (a mistyped cash sale the vendor takes back, #19 item 1): voided_at,
  voided_by_id, void_reason, and the status CHECK with the new value.
- vendors.at_market: a market vendor (a household business at a stall) or a marketplace producer, which the market's
  figures leave out (#19 item 2). Existing vendors are producers when they have products but neither a stall nor a
  market sale.
- sub_orders.received_by_shopper: the shopper's own "I received it" (#19).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026_shop'
down_revision = '0025_reorg'
branch_labels = None
depends_on = None


_STATUS_BEFORE = "status IN ('pending', 'paid', 'canceled')"
_STATUS_AFTER = "status IN ('pending', 'paid', 'canceled', 'voided')"


def _sale_status(check: str) -> None:
    with op.batch_alter_table('market_sales') as batch:
        batch.drop_constraint(op.f('ck_market_sales_status'), type_='check')
        batch.create_check_constraint('status', check)


def upgrade():
    with op.batch_alter_table('market_sales') as batch:
        batch.add_column(sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('voided_by_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('void_reason', sa.String(length=200), nullable=True))
        batch.create_foreign_key(op.f('fk_market_sales_voided_by_id_users'), 'users', ['voided_by_id'], ['id'],
                                 ondelete='SET NULL')
    _sale_status(_STATUS_AFTER)
    # a plain ADD COLUMN: a batch copy of vendors would break the catalogue's triggers on SQLite
    op.add_column('vendors', sa.Column('at_market', sa.Boolean(), nullable=False, server_default=sa.text('true')))
    op.execute("""UPDATE vendors SET at_market = false
        WHERE EXISTS (SELECT 1 FROM products p WHERE p.tenant_id = vendors.tenant_id AND p.vendor_id = vendors.id)
          AND NOT EXISTS (SELECT 1 FROM stalls s WHERE s.tenant_id = vendors.tenant_id AND s.vendor_id = vendors.id)
          AND NOT EXISTS (SELECT 1 FROM market_sales m
                          WHERE m.tenant_id = vendors.tenant_id AND m.vendor_id = vendors.id)""")
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('client_address', sa.String(length=64), nullable=False, server_default=''))
        batch.add_column(sa.Column('address_key', sa.String(length=300), nullable=False, server_default=''))
    op.add_column('sub_orders', sa.Column('received_by_shopper', sa.Boolean(), nullable=False,
                                          server_default=sa.text('false')))
    op.create_index('ix_orders_phone', 'orders', ['phone'])
    op.create_index('ix_orders_client_address', 'orders', ['client_address'])
    op.create_index('ix_orders_address_key', 'orders', ['address_key'])


def downgrade():
    op.drop_column('vendors', 'at_market')
    op.execute("UPDATE market_sales SET status = 'canceled' WHERE status = 'voided'")
    _sale_status(_STATUS_BEFORE)
    with op.batch_alter_table('market_sales') as batch:
        batch.drop_constraint(op.f('fk_market_sales_voided_by_id_users'), type_='foreignkey')
        batch.drop_column('void_reason')
        batch.drop_column('voided_by_id')
        batch.drop_column('voided_at')
    op.drop_index('ix_orders_address_key', table_name='orders')
    op.drop_index('ix_orders_client_address', table_name='orders')
    op.drop_index('ix_orders_phone', table_name='orders')
    op.drop_column('sub_orders', 'received_by_shopper')
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('address_key')
        batch.drop_column('client_address')
