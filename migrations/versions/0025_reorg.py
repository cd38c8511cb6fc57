"""reorg: administrative reorganisations (lineage), and tenant-consistent foreign keys that can wait for commit

Revision ID: 0025_reorg
Revises: 0020_audit

- reorganisations: one event per applied plan (key, effective date, legal basis, digest of the plan file).
- reorganisation_lines: "predecessor -> successor, whole or part", with what moved (docs/decisions.md, "Lineage").
  Both are district-level, like tenants: no row-level security.
- PostgreSQL: every composite foreign key that carries tenant_id ("a stall's market is in the stall's commune")
  becomes DEFERRABLE INITIALLY IMMEDIATE. Nothing changes for the application: the checks stay immediate. Only
  `flask tenants reorganise` says SET CONSTRAINTS ALL DEFERRED, so that a market, its stalls, vendors and sales can
  change commune one table at a time, set-based, and are checked together at commit. (SQLite: the reorganisation
  uses PRAGMA defer_foreign_keys, which needs no change of schema.)
"""
from alembic import op
import sqlalchemy as sa


revision = '0025_reorg'
down_revision = '0020_audit'
branch_labels = None
depends_on = None

_TENANT_FKS = """SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) AND a.attname = 'tenant_id'
WHERE c.contype = 'f' AND array_length(c.conkey, 1) > 1 AND c.connamespace = current_schema()::regnamespace"""


def _set_deferrable(deferrable: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    how = "DEFERRABLE INITIALLY IMMEDIATE" if deferrable else "NOT DEFERRABLE"
    for table, name in bind.execute(sa.text(_TENANT_FKS)).all():
        op.execute(f'ALTER TABLE {table} ALTER CONSTRAINT "{name}" {how}')


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
    _set_deferrable(True)


def downgrade():
    _set_deferrable(False)
    op.drop_table("reorganisation_lines")
    op.drop_table("reorganisations")
