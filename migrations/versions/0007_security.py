"""security: a per-user session version (sessions that end); per-account SePay API keys stored as hashes

Revision ID: 0007_security
Revises: 0006_vendors
The session and the "remember me" cookie carry the user's session version; bumping it (logout, password change,
deactivation, "sign out everywhere") signs out every copy issued before. Per-account SePay API keys were stored in
clear: they are replaced by their SHA-256 digest (``sha256:<hex>``), which is all the receiver needs to compare.

"""
import hashlib

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_security'
down_revision = '0006_vendors'
branch_labels = None
depends_on = None

HASH_PREFIX = "sha256:"


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_check_constraint(op.f('ck_users_session_version_positive'), 'session_version >= 1')

    # Per-account SePay API keys: keep only a digest (the migration runs as the table owner, so RLS does not apply).
    conn = op.get_bind()
    accounts = sa.table('payment_accounts', sa.column('id', sa.Integer), sa.column('sepay_api_key', sa.String))
    rows = conn.execute(sa.select(accounts.c.id, accounts.c.sepay_api_key)
                        .where(accounts.c.sepay_api_key.is_not(None))).all()
    for account_id, key in rows:
        if not key.startswith(HASH_PREFIX):
            digest = HASH_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()
            conn.execute(accounts.update().where(accounts.c.id == account_id).values(sepay_api_key=digest))


def downgrade():
    # The SePay keys cannot be recovered from their digests: an account whose key was hashed must be given it again.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_session_version_positive'), type_='check')
        batch_op.drop_column('session_version')
