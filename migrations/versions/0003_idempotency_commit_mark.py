"""idempotency records: committed_at

Revision ID: 0003_idempotency_commit_mark
Revises: 0002_payments
Set in the same transaction as an idempotent request's work, so a key whose request died before committing
anything can be taken over after a lease instead of answering 409 for 24 hours.

"""
from alembic import op
import sqlalchemy as sa


revision = '0003_idempotency_commit_mark'
down_revision = '0002_payments'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('committed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_column('committed_at')
