"""vendors: the vendor's side of its edges to payments and sign-in (vendor_accounts, vendor_memberships)

Revision ID: 0016_vendors
Revises: 0014_district

payment_accounts.vendor_id and memberships.vendor_id (foreign keys from payments and sign-in to the vendors table)
become two tables of the vendors package pointing the other way: vendor_accounts (a payment account that is a
vendor's) and vendor_memberships (the vendor a "vendor" membership acts for). Both are tenant-owned, with the
tenant policy on PostgreSQL; the data moves in both directions (upgrade and downgrade). The vendors table itself,
its catalogue trigger and the SECURITY DEFINER search of 0013_catalogue are untouched.

"""
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa

from tenants.rls import disable_rls, enable_rls

# revision identifiers, used by Alembic.
revision = '0016_vendors'
down_revision = '0014_district'
branch_labels = None
depends_on = None

TENANT_TABLES = ('vendor_accounts', 'vendor_memberships')
ACCOUNT_CHECK = ("vendor_owner", "(owner_kind = 'vendor') = (vendor_id IS NOT NULL)")
MEMBERSHIP_CHECK = ("vendor_bound", "(role = 'vendor') = (vendor_id IS NOT NULL)")


@contextmanager
def _across_tenants():
    """The migrating role is subject to the tenant policies too (FORCE): read and write every commune's rows."""
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if postgresql:
        op.execute("SELECT set_config('app.all_tenants', 'on', true)")
    yield
    if postgresql:
        op.execute("SELECT set_config('app.all_tenants', '', true)")


@contextmanager
def _rebuilding_tables():
    """SQLite drops or adds a constrained column by copying the table, dropping the old one and renaming the copy
    (Alembic's batch mode). With foreign keys enforced, dropping payment_accounts would refuse (payment_intents
    point at it) or delete (api_keys: ON DELETE CASCADE) the rows that point at it. SQLite's own procedure turns
    enforcement off around the copy; the pragma takes effect only outside a transaction, so what this run did so far
    is committed first (as Alembic's transaction_per_migration would), and the copies are checked with
    ``PRAGMA foreign_key_check`` before enforcement comes back. PostgreSQL alters the tables in place."""
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        yield
        return
    raw = bind.connection.driver_connection
    raw.commit()
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"0016_vendors: rows point at nothing after the table copies: {broken[:5]}")
        raw.commit()
    finally:
        if raw.in_transaction:
            raw.rollback()
        raw.execute("PRAGMA foreign_keys=ON")


def upgrade():
    op.create_table('vendor_accounts',
    sa.Column('account_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'account_id'], ['payment_accounts.tenant_id', 'payment_accounts.id'], name=op.f('fk_vendor_accounts_tenant_id_payment_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'vendor_id'], ['vendors.tenant_id', 'vendors.id'], name=op.f('fk_vendor_accounts_tenant_id_vendors'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_vendor_accounts_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_vendor_accounts'))
    )
    with op.batch_alter_table('vendor_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_accounts_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_vendor_accounts_tenant_vendor', ['tenant_id', 'vendor_id'], unique=False)

    op.create_table('vendor_memberships',
    sa.Column('membership_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_vendor_memberships_membership_id_memberships'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'vendor_id'], ['vendors.tenant_id', 'vendors.id'], name=op.f('fk_vendor_memberships_tenant_id_vendors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_vendor_memberships_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('membership_id', name=op.f('pk_vendor_memberships'))
    )
    with op.batch_alter_table('vendor_memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_memberships_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_vendor_memberships_tenant_vendor', ['tenant_id', 'vendor_id'], unique=False)
    for table in TENANT_TABLES:
        enable_rls(op, table)

    with _across_tenants():
        op.execute("INSERT INTO vendor_accounts (tenant_id, vendor_id, account_id) "
                   "SELECT tenant_id, vendor_id, id FROM payment_accounts WHERE vendor_id IS NOT NULL")
        op.execute("INSERT INTO vendor_memberships (tenant_id, vendor_id, membership_id) "
                   "SELECT tenant_id, vendor_id, id FROM memberships WHERE vendor_id IS NOT NULL")

    with _rebuilding_tables():
        with op.batch_alter_table('memberships', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'ck_memberships_{MEMBERSHIP_CHECK[0]}'), type_='check')
            batch_op.drop_index(batch_op.f('ix_memberships_vendor_id'))
            batch_op.drop_constraint(batch_op.f('fk_memberships_tenant_id_vendors'), type_='foreignkey')
            batch_op.drop_column('vendor_id')

        with op.batch_alter_table('payment_accounts', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'ck_payment_accounts_{ACCOUNT_CHECK[0]}'), type_='check')
            batch_op.drop_index(batch_op.f('ix_payment_accounts_vendor_id'))
            batch_op.drop_constraint(batch_op.f('fk_payment_accounts_tenant_id_vendors'), type_='foreignkey')
            batch_op.drop_column('vendor_id')


def downgrade():
    with _rebuilding_tables():
        with op.batch_alter_table('payment_accounts', schema=None) as batch_op:
            batch_op.add_column(sa.Column('vendor_id', sa.Integer(), nullable=True))
        with op.batch_alter_table('memberships', schema=None) as batch_op:
            batch_op.add_column(sa.Column('vendor_id', sa.Integer(), nullable=True))
        with _across_tenants():
            op.execute("UPDATE payment_accounts SET vendor_id = (SELECT l.vendor_id FROM vendor_accounts l "
                       "WHERE l.account_id = payment_accounts.id)")
            op.execute("UPDATE memberships SET vendor_id = (SELECT l.vendor_id FROM vendor_memberships l "
                       "WHERE l.membership_id = memberships.id)")
        with op.batch_alter_table('payment_accounts', schema=None) as batch_op:
            batch_op.create_foreign_key(batch_op.f('fk_payment_accounts_tenant_id_vendors'), 'vendors', ['tenant_id', 'vendor_id'], ['tenant_id', 'id'], ondelete='RESTRICT')
            batch_op.create_index(batch_op.f('ix_payment_accounts_vendor_id'), ['vendor_id'], unique=False)
            batch_op.create_check_constraint(batch_op.f(f'ck_payment_accounts_{ACCOUNT_CHECK[0]}'), ACCOUNT_CHECK[1])
        with op.batch_alter_table('memberships', schema=None) as batch_op:
            batch_op.create_foreign_key(batch_op.f('fk_memberships_tenant_id_vendors'), 'vendors', ['tenant_id', 'vendor_id'], ['tenant_id', 'id'], ondelete='CASCADE')
            batch_op.create_index(batch_op.f('ix_memberships_vendor_id'), ['vendor_id'], unique=False)
            batch_op.create_check_constraint(batch_op.f(f'ck_memberships_{MEMBERSHIP_CHECK[0]}'), MEMBERSHIP_CHECK[1])

    for table in reversed(TENANT_TABLES):
        disable_rls(op, table)
    with op.batch_alter_table('vendor_memberships', schema=None) as batch_op:
        batch_op.drop_index('ix_vendor_memberships_tenant_vendor')
        batch_op.drop_index(batch_op.f('ix_vendor_memberships_tenant_id'))
    op.drop_table('vendor_memberships')
    with op.batch_alter_table('vendor_accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_vendor_accounts_tenant_vendor')
        batch_op.drop_index(batch_op.f('ix_vendor_accounts_tenant_id'))
    op.drop_table('vendor_accounts')
