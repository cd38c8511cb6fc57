"""online: the one-stop office's full-process online services (issue #23)

Revision ID: 0023_online
Revises: 0020_audit

- onestop_documents.kind: also 'supplement' (files the citizen adds after a request for documents).
- onestop_dossiers.submitted_from: the keyed digest of an online submission's address (the per-address daily quota),
  indexed with the commune and the time for the quotas' sums.
- onestop_fee_receipt_counters, onestop_fee_receipts: the electronic fee receipts, numbered per commune and series.

"""
from alembic import op
import sqlalchemy as sa

from tenants.rls import disable_rls, enable_rls


# revision identifiers, used by Alembic.
revision = '0023_online'
down_revision = '0021_payment_claims'
branch_labels = None
depends_on = None

TABLES = ('onestop_fee_receipt_counters', 'onestop_fee_receipts')


def upgrade():
    with op.batch_alter_table('onestop_documents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_onestop_documents_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_onestop_documents_kind'),
                                         "kind IN ('submitted', 'supplement', 'result')")
    with op.batch_alter_table('onestop_dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted_from', sa.String(length=64), nullable=False, server_default=''))
        batch_op.create_index('ix_onestop_dossiers_online_quota', ['tenant_id', 'submitted_at', 'submitted_from'],
                              unique=False)

    op.create_table('onestop_fee_receipt_counters',
    sa.Column('series', sa.String(length=20), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_onestop_fee_receipt_counters_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'series', name=op.f('pk_onestop_fee_receipt_counters'))
    )
    with op.batch_alter_table('onestop_fee_receipt_counters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_onestop_fee_receipt_counters_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('onestop_fee_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('form_number', sa.String(length=20), nullable=False),
    sa.Column('series', sa.String(length=20), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('issuer_name', sa.String(length=200), nullable=False),
    sa.Column('issuer_tax_code', sa.String(length=20), nullable=False),
    sa.Column('payer_name', sa.String(length=120), nullable=False),
    sa.Column('payer_address', sa.String(length=300), nullable=False),
    sa.Column('payer_id_number', sa.String(length=12), nullable=False),
    sa.Column('fee_name', sa.String(length=300), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('payment_reference', sa.String(length=64), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verify_token', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("method IN ('vietqr', 'cash')", name=op.f('ck_onestop_fee_receipts_method')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_onestop_fee_receipts_amount')),
    sa.CheckConstraint('number > 0', name=op.f('ck_onestop_fee_receipts_number')),
    sa.ForeignKeyConstraint(['tenant_id', 'dossier_id'], ['onestop_dossiers.tenant_id', 'onestop_dossiers.id'], name=op.f('fk_onestop_fee_receipts_tenant_id_onestop_dossiers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_onestop_fee_receipts_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_onestop_fee_receipts')),
    sa.UniqueConstraint('tenant_id', 'dossier_id', name=op.f('uq_onestop_fee_receipts_tenant_id_dossier_id')),
    sa.UniqueConstraint('tenant_id', 'series', 'number', name=op.f('uq_onestop_fee_receipts_tenant_id_series_number')),
    sa.UniqueConstraint('verify_token', name=op.f('uq_onestop_fee_receipts_verify_token'))
    )
    with op.batch_alter_table('onestop_fee_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_onestop_fee_receipts_tenant_id'), ['tenant_id'], unique=False)

    for table in TABLES:
        enable_rls(op, table)


def downgrade():
    for table in TABLES:
        disable_rls(op, table)
    with op.batch_alter_table('onestop_fee_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_onestop_fee_receipts_tenant_id'))
    op.drop_table('onestop_fee_receipts')
    with op.batch_alter_table('onestop_fee_receipt_counters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_onestop_fee_receipt_counters_tenant_id'))
    op.drop_table('onestop_fee_receipt_counters')
    with op.batch_alter_table('onestop_dossiers', schema=None) as batch_op:
        batch_op.drop_index('ix_onestop_dossiers_online_quota')
        batch_op.drop_column('submitted_from')
    op.execute("DELETE FROM onestop_documents WHERE kind = 'supplement'")
    with op.batch_alter_table('onestop_documents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_onestop_documents_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_onestop_documents_kind'), "kind IN ('submitted', 'result')")
