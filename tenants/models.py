"""The Tenant: one commune-level administrative unit (xã, thị trấn, phường)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db, one_of

KINDS = ("xã", "thị trấn", "phường")
STATUSES = ("active", "merged", "inactive")


class Tenant(db.Model):
    """Surrogate id as the key: slugs and 5-digit statistics codes are reused when units merge."""

    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint(one_of("kind", KINDS), name="kind"),
        CheckConstraint(one_of("status", STATUSES), name="status"),
        CheckConstraint("status <> 'merged' OR successor_id IS NOT NULL", name="merged_has_successor"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(5), index=True)
    district_name: Mapped[str] = mapped_column(String(120))
    district_code: Mapped[str] = mapped_column(String(3))
    province_name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(10), default="active")
    # the commune's tax code (mã số thuế: 10 digits, or 10-3 for a dependent unit), printed on its fee receipts
    tax_code: Mapped[str | None] = mapped_column(String(14))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    successor: Mapped[Tenant | None] = relationship(remote_side=[id])

    @property
    def display_name(self) -> str:
        """"Xã Bát Tràng", "Thị trấn Trâu Quỳ"."""
        return f"{self.kind[:1].upper()}{self.kind[1:]} {self.name}"

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"


class Reorganisation(db.Model):
    """One administrative reorganisation: an event with its effective date and legal basis (docs/decisions.md,
    "Lineage"). District-level, like the communes themselves: no tenant owns it."""

    __tablename__ = "reorganisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)  # the plan's own name: a second run finds it
    effective_date: Mapped[date] = mapped_column(Date)
    legal_basis: Mapped[str] = mapped_column(String(500))
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of the plan file: the same key with other content refused
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    lines: Mapped[list[ReorganisationLine]] = relationship(back_populates="reorganisation", order_by="ReorganisationLine.id")


class ReorganisationLine(db.Model):
    """"predecessor -> successor, whole or part". ``moved`` records what went across (kind -> rows), for the lineage
    page; ``is_default`` marks, for a split unit, the successor that received everything the plan did not send
    elsewhere (and the one old addresses fall back to)."""

    __tablename__ = "reorganisation_lines"
    __table_args__ = (UniqueConstraint("reorganisation_id", "predecessor_id", "successor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reorganisation_id: Mapped[int] = mapped_column(ForeignKey("reorganisations.id", ondelete="CASCADE"), index=True)
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"), index=True)
    successor_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"), index=True)
    whole: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=True)
    moved: Mapped[dict] = mapped_column(JSON, default=dict)

    reorganisation: Mapped[Reorganisation] = relationship(back_populates="lines")
    predecessor: Mapped[Tenant] = relationship(foreign_keys=[predecessor_id])
    successor: Mapped[Tenant] = relationship(foreign_keys=[successor_id])
