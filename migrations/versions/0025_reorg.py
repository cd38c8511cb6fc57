"""reorg: administrative reorganisations (lineage): events and their lines

Revision ID: 0025_reorg
Revises: 0020_audit

- reorganisations: one event per applied plan (key, effective date, legal basis, digest of the plan file).
- reorganisation_lines: "predecessor -> successor, whole or part", with what moved (docs/decisions.md, "Lineage").
  Both are district-level, like tenants: no row-level security.
"""
from alembic import op
import sqlalchemy as sa


revision = '0025_reorg'
down_revision = '0024_notify'
branch_labels = None
depends_on = None

def upgrade():
    op.create_table(
        "reorganisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("legal_basis", sa.String(length=500), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reorganisations")),
        sa.UniqueConstraint("key", name=op.f("uq_reorganisations_key")),
    )
    op.create_table(
        "reorganisation_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reorganisation_id", sa.Integer(), nullable=False),
        sa.Column("predecessor_id", sa.Integer(), nullable=False),
        sa.Column("successor_id", sa.Integer(), nullable=False),
        sa.Column("whole", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("moved", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["reorganisation_id"], ["reorganisations.id"], ondelete="CASCADE",
                                name=op.f("fk_reorganisation_lines_reorganisation_id_reorganisations")),
        sa.ForeignKeyConstraint(["predecessor_id"], ["tenants.id"], ondelete="RESTRICT",
                                name=op.f("fk_reorganisation_lines_predecessor_id_tenants")),
        sa.ForeignKeyConstraint(["successor_id"], ["tenants.id"], ondelete="RESTRICT",
                                name=op.f("fk_reorganisation_lines_successor_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reorganisation_lines")),
        sa.UniqueConstraint("reorganisation_id", "predecessor_id", "successor_id",
                            name=op.f("uq_reorganisation_lines_reorganisation_id_predecessor_id_successor_id")),
    )
    for column in ("reorganisation_id", "predecessor_id", "successor_id"):
        op.create_index(op.f(f"ix_reorganisation_lines_{column}"), "reorganisation_lines", [column])


def downgrade():
    op.drop_table("reorganisation_lines")
    op.drop_table("reorganisations")
