"""vendors.tax_code written as the one rule stores it: a branch's 13 digits as 10 + "-" + 3 (app/text.py,
clean_tax_code). Before, the vendors' form stored them without the hyphen, the commune's with it.

Revision ID: 0035_mend
Revises: 0027_tenant_tax_code
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0035_mend'
down_revision = '0029_reorghist'
branch_labels = None
depends_on = None


def _across_tenants(on: bool) -> None:
    """The migrating role is subject to the tenant policies too (FORCE): write every commune's rows."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"SELECT set_config('app.all_tenants', '{'on' if on else ''}', true)")


def upgrade():
    _across_tenants(True)
    op.execute("UPDATE vendors SET tax_code = substr(tax_code, 1, 10) || '-' || substr(tax_code, 11, 3) "
               "WHERE length(tax_code) = 13 AND tax_code NOT LIKE '%-%'")
    _across_tenants(False)


def downgrade():
    _across_tenants(True)
    op.execute("UPDATE vendors SET tax_code = replace(tax_code, '-', '') WHERE tax_code LIKE '%-%'")
    _across_tenants(False)
