"""uxcart: a producer's delivery and pick-up, the shopper's choice per sub-order (#19)

Revision ID: 0031_uxcart
Revises: 0027_tenant_tax_code

- vendors: what a producer offers its marketplace shoppers: delivery (offers_delivery, a flat delivery_fee in đồng,
  0 allowed, and a delivery_estimate such as "2–3 ngày"), pick-up (offers_pickup, the pickup_place and a
  pickup_estimate), or both. Existing vendors deliver for free, with no estimate: what the checkout did before.
- sub_orders: the shopper's choice (fulfilment: delivery or pickup), the shipping_fee charged, and the estimate and
  place as they were at checkout. ``subtotal`` stays the amount due (goods + shipping fee), the amount its payment
  intent asks for; the goods are subtotal - shipping_fee.

Plain ADD COLUMNs (a batch copy of vendors would break the catalogue's triggers on SQLite); the CHECKs are added on
PostgreSQL (SQLite cannot add one without copying the table; the services check the same rules).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0031_uxcart'
down_revision = '0030_uxphone'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('vendors', sa.Column('offers_delivery', sa.Boolean(), nullable=False,
                                       server_default=sa.text('true')))
    op.add_column('vendors', sa.Column('delivery_fee', sa.BigInteger(), nullable=False, server_default='0'))
    op.add_column('vendors', sa.Column('delivery_estimate', sa.String(length=60), nullable=False,
                                       server_default=''))
    op.add_column('vendors', sa.Column('offers_pickup', sa.Boolean(), nullable=False,
                                       server_default=sa.text('false')))
    op.add_column('vendors', sa.Column('pickup_place', sa.String(length=200), nullable=False, server_default=''))
    op.add_column('vendors', sa.Column('pickup_estimate', sa.String(length=60), nullable=False, server_default=''))
    op.add_column('sub_orders', sa.Column('fulfilment', sa.String(length=10), nullable=False,
                                          server_default='delivery'))
    op.add_column('sub_orders', sa.Column('shipping_fee', sa.BigInteger(), nullable=False, server_default='0'))
    op.add_column('sub_orders', sa.Column('fulfilment_estimate', sa.String(length=60), nullable=False,
                                          server_default=''))
    op.add_column('sub_orders', sa.Column('pickup_place', sa.String(length=200), nullable=False,
                                          server_default=''))
    if op.get_bind().dialect.name == 'postgresql':
        op.create_check_constraint(op.f('ck_vendors_delivery_offer'), 'vendors',
                                   'delivery_fee >= 0 AND delivery_fee <= 99999999 AND (offers_delivery OR offers_pickup)')
        op.create_check_constraint(op.f('ck_sub_orders_fulfilment'), 'sub_orders',
                                   "fulfilment IN ('delivery', 'pickup')")
        op.create_check_constraint(op.f('ck_sub_orders_shipping_fee'), 'sub_orders',
                                   "shipping_fee >= 0 AND shipping_fee < subtotal "
                                   "AND (fulfilment = 'delivery' OR shipping_fee = 0)")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(op.f('ck_sub_orders_shipping_fee'), 'sub_orders', type_='check')
        op.drop_constraint(op.f('ck_sub_orders_fulfilment'), 'sub_orders', type_='check')
        op.drop_constraint(op.f('ck_vendors_delivery_offer'), 'vendors', type_='check')
    for column in ('pickup_place', 'fulfilment_estimate', 'shipping_fee', 'fulfilment'):
        op.drop_column('sub_orders', column)
    for column in ('pickup_estimate', 'pickup_place', 'offers_pickup', 'delivery_estimate', 'delivery_fee',
                   'offers_delivery'):
        op.drop_column('vendors', column)
