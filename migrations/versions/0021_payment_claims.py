"""payment_claims: a confirmation by hand is a claim (who, when, why), not a bank transfer

Revision ID: 0021_payment_claims
Revises: 0020_audit

- payment_claims (tenant-owned, RLS): a person's word that an intent's money arrived; settled by the bank's own
  transfer (settled_transfer_id). "Received" and refund ceilings count bank transfers only (docs/payments.md).
"""
from alembic import op
import sqlalchemy as sa

from tenants.rls import disable_rls, enable_rls


revision = '0021_payment_claims'
down_revision = '0020_audit'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payment_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('intent_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('claimed_by_id', sa.Integer(), nullable=True),
    sa.Column('claimed_by', sa.String(length=254), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('settled_transfer_id', sa.Integer(), nullable=True),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('amount > 0 AND amount <= 9999999999999', name=op.f('ck_payment_claims_amount_positive')),
    sa.CheckConstraint("status IN ('open', 'settled')", name=op.f('ck_payment_claims_status')),
    sa.ForeignKeyConstraint(['claimed_by_id'], ['users.id'], name=op.f('fk_payment_claims_claimed_by_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['settled_transfer_id'], ['bank_transfers.id'],
                            name=op.f('fk_payment_claims_settled_transfer_id_bank_transfers')),
    sa.ForeignKeyConstraint(['tenant_id', 'intent_id'], ['payment_intents.tenant_id', 'payment_intents.id'],
                            name=op.f('fk_payment_claims_tenant_id_payment_intents')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_payment_claims_tenant_id_tenants'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_claims')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_payment_claims_tenant_id_id')),
    )
    op.create_index('ix_payment_claims_tenant_intent', 'payment_claims', ['tenant_id', 'intent_id'], unique=False)
    op.create_index('ix_payment_claims_tenant_status_claimed', 'payment_claims', ['tenant_id', 'status', 'claimed_at'],
                    unique=False)
    op.create_index(op.f('ix_payment_claims_tenant_id'), 'payment_claims', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_payment_claims_settled_transfer_id'), 'payment_claims', ['settled_transfer_id'],
                    unique=False)
    enable_rls(op, 'payment_claims')


def downgrade():
    disable_rls(op, 'payment_claims')
    op.drop_table('payment_claims')
