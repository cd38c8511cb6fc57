"""bank_transfers under row-level security

Revision ID: 0004_bank_transfers_rls
Revises: 0003_idempotency_commit_mark
The ingestion log was left without RLS because a notification arrives before its commune is known. The tenant
policy handles that case as it is: the ingestion runs across tenants (``all_tenants``), and a transfer nobody can
attribute (tenant_id NULL) is then visible only there, to the district. A commune's transaction sees its own
transfers and nothing else, even through raw SQL.

"""
from alembic import op

from tenants.rls import disable_rls, enable_rls


revision = '0004_bank_transfers_rls'
down_revision = '0003_idempotency_commit_mark'
branch_labels = None
depends_on = None


def upgrade():
    enable_rls(op, 'bank_transfers')


def downgrade():
    disable_rls(op, 'bank_transfers')
