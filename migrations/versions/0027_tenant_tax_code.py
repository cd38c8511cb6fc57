"""tenants.tax_code: the commune's tax code, printed on its fee receipts (#23)

Revision ID: 0027_tenant_tax_code
Revises: 0026_shop
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027_tenant_tax_code'
down_revision = '0026_shop'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("tax_code", sa.String(length=14), nullable=True))


def downgrade():
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("tax_code")
