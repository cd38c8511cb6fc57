"""users.login_phone: a stallholder with no e-mail address signs in with a mobile number (#19)

users.email becomes optional; every user keeps one way in (an e-mail or a login phone), and a login phone is
unique among users.

Revision ID: 0030_uxphone
Revises: 0027_tenant_tax_code
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0030_uxphone'
down_revision = '0027_tenant_tax_code'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("login_phone", sa.String(length=10), nullable=True))
        batch.alter_column("email", existing_type=sa.String(length=254), nullable=True)
        batch.create_unique_constraint(op.f("uq_users_login_phone"), ["login_phone"])
        batch.create_check_constraint(op.f("ck_users_sign_in_identifier"), "email IS NOT NULL OR login_phone IS NOT NULL")


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_sign_in_identifier"), type_="check")
        batch.drop_constraint(op.f("uq_users_login_phone"), type_="unique")
        batch.alter_column("email", existing_type=sa.String(length=254), nullable=False)
        batch.drop_column("login_phone")
