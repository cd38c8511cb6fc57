"""The audit trail's tables (migration 0020_audit).

AuditEntry  one recorded action: who, when, from where, what (a row's insert/update/delete with the changed columns
            before and after, or a named action such as a sign-in), in one chain per commune (``tenant_id``; NULL is
            the district's chain), numbered ``seq`` 1, 2, 3... and carrying the digest of the entry before it.
AuditHead   the last number and digest of each chain: the row locked (last of all locks, app/locks.py) while a
            transaction appends, so that two writers of one commune never fork its chain.

Append-only: the application only inserts entries; on PostgreSQL its role may not UPDATE or DELETE them (grants and
row-level security with no update or delete policy, plus a trigger; tenants/rls.py, migration 0020_audit).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

GENESIS = "0" * 64  # the "previous digest" of a chain's first entry


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        # One entry per number in each chain: a fork (two entries numbered alike) is impossible, whatever the locks.
        Index("uq_audit_entries_chain_seq", text("coalesce(tenant_id, 0)"), "seq", unique=True),
        Index("ix_audit_entries_tenant_at", "tenant_id", "at"),
        Index("ix_audit_entries_tenant_record", "tenant_id", "table_name", "record_id"),
        Index("ix_audit_entries_tenant_actor", "tenant_id", "actor_id"),
        CheckConstraint("seq >= 1", name="seq_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_kind: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None] = mapped_column(Integer)  # users.id at the time; no foreign key: entries outlive rows
    actor_label: Mapped[str] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(45))
    action: Mapped[str] = mapped_column(String(40))  # insert, update, delete, or a named action (sign_in...)
    table_name: Mapped[str | None] = mapped_column(String(63))
    record_id: Mapped[str | None] = mapped_column(String(100))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # {column: [before, after]} or a named action's details
    prev_digest: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))


class AuditHead(db.Model):
    __tablename__ = "audit_heads"
    __table_args__ = (
        Index("uq_audit_heads_chain", text("coalesce(tenant_id, 0)"), unique=True),
        CheckConstraint("last_seq >= 0", name="last_seq_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_digest: Mapped[str] = mapped_column(String(64), default=GENESIS)
