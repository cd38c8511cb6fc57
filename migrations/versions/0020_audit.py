"""audit: the append-only audit trail, one tamper-evident chain per commune

Revision ID: 0020_audit
Revises: 0018_heritage

- audit_entries: one row per recorded action (app/audit/models.py), numbered per chain (tenant_id; NULL is the
  district's), each carrying the digest of the one before; unique (chain, number), so a chain cannot fork.
- audit_heads: each chain's last number and digest, the row a writer locks to append.
- PostgreSQL: row-level security on both; audit_entries has a read policy and an append policy and no update or
  delete policy, UPDATE/DELETE/TRUNCATE are revoked from every role but the owner (tenants/rls.py revokes them again
  when it grants the application role), and a trigger refuses UPDATE and DELETE of an entry to anyone, the owner
  included (a superuser restoring or repairing may disable it knowingly: docs/operations.md).

"""
from alembic import op
import sqlalchemy as sa

from tenants.rls import POLICY_CONDITION, disable_rls, enable_rls


# revision identifiers, used by Alembic.
revision = '0020_audit'
down_revision = '0018_heritage'
branch_labels = None
depends_on = None

_APPEND_ONLY_FUNCTION = """CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$"""

_REVOKE_FROM_GRANTEES = """DO $$
DECLARE grantee_name text;
BEGIN
    FOR grantee_name IN SELECT DISTINCT grantee FROM information_schema.role_table_grants
        WHERE table_schema = current_schema() AND table_name = 'audit_entries'
          AND privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE') AND grantee <> current_user AND grantee <> 'PUBLIC'
    LOOP
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON audit_entries FROM %I', grantee_name);
    END LOOP;
END $$"""


def upgrade():
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.String(length=10), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=254), nullable=False),
    sa.Column('address', sa.String(length=45), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('table_name', sa.String(length=63), nullable=True),
    sa.Column('record_id', sa.String(length=100), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('prev_digest', sa.String(length=64), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.CheckConstraint('seq >= 1', name=op.f('ck_audit_entries_seq_positive')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_audit_entries_tenant_id_tenants'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    op.create_index('uq_audit_entries_chain_seq', 'audit_entries', [sa.text('coalesce(tenant_id, 0)'), 'seq'],
                    unique=True)
    op.create_index('ix_audit_entries_tenant_at', 'audit_entries', ['tenant_id', 'at'])
    op.create_index('ix_audit_entries_tenant_record', 'audit_entries', ['tenant_id', 'table_name', 'record_id'])
    op.create_index('ix_audit_entries_tenant_actor', 'audit_entries', ['tenant_id', 'actor_id'])
    op.create_table('audit_heads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('last_digest', sa.String(length=64), nullable=False),
    sa.CheckConstraint('last_seq >= 0', name=op.f('ck_audit_heads_last_seq_nonnegative')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_audit_heads_tenant_id_tenants'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_heads'))
    )
    op.create_index('uq_audit_heads_chain', 'audit_heads', [sa.text('coalesce(tenant_id, 0)')], unique=True)

    if op.get_bind().dialect.name != 'postgresql':
        return
    enable_rls(op, 'audit_heads')
    op.execute("ALTER TABLE audit_entries ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE audit_entries FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY audit_read ON audit_entries FOR SELECT USING ({POLICY_CONDITION})")
    op.execute(f"CREATE POLICY audit_append ON audit_entries FOR INSERT WITH CHECK ({POLICY_CONDITION})")
    op.execute(_APPEND_ONLY_FUNCTION)
    op.execute("CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
               "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()")
    op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON audit_entries FROM PUBLIC")
    op.execute(_REVOKE_FROM_GRANTEES)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
        op.execute("DROP POLICY IF EXISTS audit_read ON audit_entries")
        op.execute("DROP POLICY IF EXISTS audit_append ON audit_entries")
        disable_rls(op, 'audit_heads')
    op.drop_index('uq_audit_heads_chain', table_name='audit_heads')
    op.drop_table('audit_heads')
    op.drop_index('ix_audit_entries_tenant_actor', table_name='audit_entries')
    op.drop_index('ix_audit_entries_tenant_record', table_name='audit_entries')
    op.drop_index('ix_audit_entries_tenant_at', table_name='audit_entries')
    op.drop_index('uq_audit_entries_chain_seq', table_name='audit_entries')
    op.drop_table('audit_entries')
