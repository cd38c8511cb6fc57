"""shop: bounded holds on the marketplace (#16 item 1)

Revision ID: 0026_shop
Revises: 0020_audit

- orders.client_address, orders.address_key: the checkout's network address and its delivery address folded, each
  indexed with orders.phone, so the units held unpaid per client, per phone number and per address are counted
  before a checkout holds more (marketplace/services.py, check_hold_limits).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026_shop'
down_revision = '0020_audit'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('client_address', sa.String(length=64), nullable=False, server_default=''))
        batch.add_column(sa.Column('address_key', sa.String(length=300), nullable=False, server_default=''))
    op.create_index('ix_orders_phone', 'orders', ['phone'])
    op.create_index('ix_orders_client_address', 'orders', ['client_address'])
    op.create_index('ix_orders_address_key', 'orders', ['address_key'])


def downgrade():
    op.drop_index('ix_orders_address_key', table_name='orders')
    op.drop_index('ix_orders_client_address', table_name='orders')
    op.drop_index('ix_orders_phone', table_name='orders')
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('address_key')
        batch.drop_column('client_address')
