"""scale: the tenant policy written as a range the planner can estimate

Revision ID: 0012_scale
Revises: 0011_onestop

Every tenant_isolation policy gets tenants.rls.POLICY_CONDITION (same rows admitted, same NULL-tenant rule; see
the comment there): with the old "tenant_id = <setting> OR <flag>" form PostgreSQL estimated a cross-commune read
at 0.5 % of the table and planned nested loops over every row of the other side (bench/README.md, "Scale data").
No table or index changes. A no-op on SQLite.

"""
from alembic import op
from sqlalchemy import text

from tenants.rls import POLICY_CONDITION, _ident

# revision identifiers, used by Alembic.
revision = '0012_scale'
down_revision = '0011_onestop'
branch_labels = None
depends_on = None

OLD_CONDITION = (
    "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::integer "
    "OR current_setting('app.all_tenants', true) = 'on'"
)


def _set_policies(condition: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return
    tables = bind.execute(text("SELECT tablename FROM pg_policies WHERE policyname = 'tenant_isolation' "
                               "AND schemaname = current_schema() ORDER BY tablename")).scalars().all()
    for table in tables:
        op.execute(f"ALTER POLICY tenant_isolation ON {_ident(table)} USING ({condition}) WITH CHECK ({condition})")


def upgrade():
    _set_policies(POLICY_CONDITION)


def downgrade():
    _set_policies(OLD_CONDITION)
