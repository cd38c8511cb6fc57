"""bank transfers: a transaction id is unique per provider and receiving account

Revision ID: 0005_transfer_key_per_account
Revises: 0004_bank_transfers_rls
A bank-statement export numbers its own rows, so two communes' statements share transaction ids; with the key on
(provider, transaction id) alone the second commune's rows were taken for duplicates and its payments never
recorded. The key now includes the receiving account (no account counts as one account, '').

"""
from alembic import op
import sqlalchemy as sa


revision = '0005_transfer_key_per_account'
down_revision = '0004_bank_transfers_rls'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bank_transfers', schema=None) as batch_op:
        batch_op.drop_constraint('uq_bank_transfers_provider_provider_txn_id', type_='unique')
    op.create_index('uq_bank_transfers_provider_account_txn', 'bank_transfers',
                    ['provider', sa.text("coalesce(account_number, '')"), 'provider_txn_id'], unique=True)


def downgrade():
    op.drop_index('uq_bank_transfers_provider_account_txn', table_name='bank_transfers')
    with op.batch_alter_table('bank_transfers', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_bank_transfers_provider_provider_txn_id', ['provider', 'provider_txn_id'])
