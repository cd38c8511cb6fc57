"""The one-stop office's records: the procedures, dossiers with their control sheet (Mẫu 06), documents,
ratings, the commune's office hours and days off, and the per-day counter behind dossier codes.

Every table is tenant-owned; foreign keys between them include tenant_id, so no row can point into another commune.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db, one_of
from tenants.onestop.statuses import CHANNELS, FEE_METHODS, RATINGS, VALUES
from tenants.scoping import RemembersOrigin, TenantScoped

TIME_UNITS = ("days", "hours")
DOCUMENT_KINDS = ("submitted", "supplement", "result")  # a supplement: added after a request (Mẫu 02)


class Procedure(TenantScoped, db.Model):
    """A procedure (thủ tục hành chính) a commune's office handles."""

    __tablename__ = "onestop_procedures"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        CheckConstraint(one_of("time_unit", TIME_UNITS), name="time_unit"),
        CheckConstraint("time_amount >= 0", name="time_amount"),
        CheckConstraint("fee >= 0", name="fee"),
        CheckConstraint("same_day OR time_amount > 0", name="has_time"),
        Index("ix_onestop_procedures_tenant_active", "tenant_id", "active", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    sector: Mapped[str] = mapped_column(String(120))
    time_unit: Mapped[str] = mapped_column(String(10), default="days")
    time_amount: Mapped[int] = mapped_column(Integer, default=1)
    same_day: Mapped[bool] = mapped_column(Boolean, default=False)
    fee: Mapped[int] = mapped_column(BigInteger, default=0)
    required_documents: Mapped[str] = mapped_column(Text, default="")
    online: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OfficeSchedule(TenantScoped, db.Model):
    """A commune's office hours (one row per commune; none means the defaults of worktime.DEFAULT_SCHEDULE)."""

    __tablename__ = "onestop_office_schedules"
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint("morning_start < morning_end AND morning_end <= afternoon_start "
                        "AND afternoon_start < afternoon_end", name="ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    morning_start: Mapped[str] = mapped_column(String(5), default="07:00")  # HH:MM, local time
    morning_end: Mapped[str] = mapped_column(String(5), default="11:30")
    afternoon_start: Mapped[str] = mapped_column(String(5), default="13:30")
    afternoon_end: Mapped[str] = mapped_column(String(5), default="17:00")
    weekdays: Mapped[str] = mapped_column(String(13), default="0,1,2,3,4")  # Monday = 0
    same_day_cutoff: Mapped[str] = mapped_column(String(5), default="15:00")


class DayOff(TenantScoped, db.Model):
    """A commune's own day off, on top of the national public holidays."""

    __tablename__ = "onestop_days_off"
    __table_args__ = (UniqueConstraint("tenant_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")


class DossierCounter(TenantScoped, db.Model):
    """The last sequence number given in a commune on a (local) day: one row, upserted and locked per intake."""

    __tablename__ = "onestop_dossier_counters"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "day"),)

    day: Mapped[date] = mapped_column(Date)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Dossier(TenantScoped, RemembersOrigin, db.Model):
    __tablename__ = "onestop_dossiers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "code"),
        ForeignKeyConstraint(["tenant_id", "procedure_id"], ["onestop_procedures.tenant_id", "onestop_procedures.id"],
                             ondelete="RESTRICT"),
        ForeignKeyConstraint(["tenant_id", "fee_intent_id"], ["payment_intents.tenant_id", "payment_intents.id"]),
        CheckConstraint(one_of("status", VALUES), name="status"),
        CheckConstraint(one_of("channel", CHANNELS), name="channel"),
        CheckConstraint(f"fee_method IS NULL OR {one_of('fee_method', FEE_METHODS)}", name="fee_method"),
        CheckConstraint("fee_amount >= 0", name="fee_amount"),
        CheckConstraint("supplement_requests >= 0", name="supplement_requests"),
        CheckConstraint("status IN ('registered', 'refused', 'withdrawn') OR received_at IS NOT NULL", name="received"),
        Index("ix_onestop_dossiers_tenant_status_due", "tenant_id", "status", "due_at"),
        Index("ix_onestop_dossiers_tenant_received", "tenant_id", "received_at"),
        Index("ix_onestop_dossiers_tenant_name", "tenant_id", "applicant_name_folded"),
        Index("ix_onestop_dossiers_code", "code"),
        Index("ix_onestop_dossiers_online_quota", "tenant_id", "submitted_at", "submitted_from"),  # the public look-up by code runs across communes
        # The district's figures read every commune's dossiers received in a period: by reception time, carrying
        # what the figures count, so that PostgreSQL answers from the index alone (migration 0014_district).
        Index("ix_onestop_dossiers_received_figures", "received_at",
              postgresql_include=["tenant_id", "id", "status", "channel", "fee_amount", "fee_method",
                                  "finished_on_time", "clock_paused_at", "due_at", "result_file_key",
                                  "origin_tenant_id"]),  # grouped by since 0029 (0036_district)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32))  # <unit code>-YYMMDD-NNNN
    procedure_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(10), default="counter")
    status: Mapped[str] = mapped_column(String(20), default="registered")
    applicant_name: Mapped[str] = mapped_column(String(120))
    applicant_name_folded: Mapped[str] = mapped_column(String(120))  # app.text.fold, for search
    applicant_id_number: Mapped[str] = mapped_column(String(12))
    applicant_phone: Mapped[str] = mapped_column(String(20), default="")
    applicant_address: Mapped[str] = mapped_column(String(300), default="")
    applicant_email: Mapped[str] = mapped_column(String(254), default="")
    request_note: Mapped[str] = mapped_column(Text, default="")
    sets: Mapped[int] = mapped_column(Integer, default=1)  # number of sets of documents (receipt slip)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The clock stopped while waiting for documents: since when, and how many working minutes were left.
    clock_paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_remaining_minutes: Mapped[int | None] = mapped_column(Integer)  # None: it was already overdue
    paused_minutes: Mapped[int] = mapped_column(Integer, default=0)  # working minutes spent waiting, in total
    supplement_requests: Mapped[int] = mapped_column(Integer, default=0)
    supplement_items: Mapped[str] = mapped_column(Text, default="")  # what the last request asked for (Mẫu 02)
    # The apology with a new appointment (Mẫu 04): at most once; the old due time is kept.
    apology_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    apology_reason: Mapped[str] = mapped_column(Text, default="")
    original_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="")  # why it was refused, stopped or withdrawn
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_on_time: Mapped[bool | None] = mapped_column(Boolean)
    processing_minutes: Mapped[int | None] = mapped_column(Integer)  # working minutes, reception to result
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    result_file_key: Mapped[str | None] = mapped_column(String(255))
    result_note: Mapped[str] = mapped_column(Text, default="")
    fee_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_intent_id: Mapped[int | None] = mapped_column(Integer)
    fee_method: Mapped[str | None] = mapped_column(String(10))
    fee_paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # An online submission's address, as a keyed digest (never the address itself): the per-address daily quota.
    submitted_from: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    procedure: Mapped[Procedure] = relationship(
        primaryjoin="and_(Dossier.procedure_id == Procedure.id, Dossier.tenant_id == Procedure.tenant_id)",
        foreign_keys="[Dossier.tenant_id, Dossier.procedure_id]", viewonly=True, lazy="joined",
    )
    officer = relationship("User", lazy="joined")


class DossierEvent(TenantScoped, db.Model):
    """One line of the processing control sheet (Mẫu 06): a step, who did it, when, and whether it was on time."""

    __tablename__ = "onestop_dossier_events"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "dossier_id"], ["onestop_dossiers.tenant_id", "onestop_dossiers.id"],
                             ondelete="CASCADE"),
        Index("ix_onestop_dossier_events_tenant_dossier", "tenant_id", "dossier_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(120), default="")  # a name, "Công dân", "Ngân hàng"
    note: Mapped[str] = mapped_column(Text, default="")
    on_time: Mapped[bool | None] = mapped_column(Boolean)  # None: no due time yet (or the clock is stopped)


class DossierDocument(TenantScoped, db.Model):
    """A file of a dossier (submitted component or electronic result), stored by key through app/storage.py."""

    __tablename__ = "onestop_documents"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "dossier_id"], ["onestop_dossiers.tenant_id", "onestop_dossiers.id"],
                             ondelete="CASCADE"),
        CheckConstraint(one_of("kind", DOCUMENT_KINDS), name="kind"),
        CheckConstraint("size >= 0", name="size"),
        Index("ix_onestop_documents_tenant_dossier", "tenant_id", "dossier_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10), default="submitted")
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(255))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Rating(TenantScoped, RemembersOrigin, db.Model):
    """A citizen's rating of a dossier (one per dossier: a new one replaces it), credited to an officer."""

    __tablename__ = "onestop_ratings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dossier_id"),
        ForeignKeyConstraint(["tenant_id", "dossier_id"], ["onestop_dossiers.tenant_id", "onestop_dossiers.id"],
                             ondelete="CASCADE"),
        CheckConstraint(one_of("level", RATINGS), name="level"),
        CheckConstraint("level <> 'unsatisfied' OR length(reason) > 0", name="reason_when_unsatisfied"),
        Index("ix_onestop_ratings_tenant_officer", "tenant_id", "officer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(Integer)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    level: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FeeReceiptCounter(TenantScoped, db.Model):
    """The last number given in a commune's receipt series: one row per series, upserted and locked per receipt, so
    numbers are gapless and unique (a rolled-back payment gives its number back)."""

    __tablename__ = "onestop_fee_receipt_counters"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "series"),)

    series: Mapped[str] = mapped_column(String(20))
    last: Mapped[int] = mapped_column(Integer, default=0)


class FeeReceipt(TenantScoped, db.Model):
    """The electronic receipt of a fee (biên lai thu phí, lệ phí; Decree 123/2020, Circular 78/2021): one per paid
    dossier, numbered in its commune's series, verified by anyone holding its QR (``verify_token``)."""

    __tablename__ = "onestop_fee_receipts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "series", "number"),
        UniqueConstraint("tenant_id", "dossier_id"),
        UniqueConstraint("verify_token"),
        ForeignKeyConstraint(["tenant_id", "dossier_id"], ["onestop_dossiers.tenant_id", "onestop_dossiers.id"],
                             ondelete="RESTRICT"),
        CheckConstraint(one_of("method", FEE_METHODS), name="method"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("number > 0", name="number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(Integer)
    form_number: Mapped[str] = mapped_column(String(20))  # ký hiệu mẫu số
    series: Mapped[str] = mapped_column(String(20))  # ký hiệu biên lai
    number: Mapped[int] = mapped_column(Integer)  # số biên lai, from 1 in each series
    issuer_name: Mapped[str] = mapped_column(String(200))  # the organisation collecting the fee
    issuer_tax_code: Mapped[str] = mapped_column(String(20), default="")
    payer_name: Mapped[str] = mapped_column(String(120))
    payer_address: Mapped[str] = mapped_column(String(300), default="")
    payer_id_number: Mapped[str] = mapped_column(String(12), default="")
    fee_name: Mapped[str] = mapped_column(String(300))  # tên loại phí, lệ phí
    amount: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(10))  # VietQR transfer or cash
    payment_reference: Mapped[str] = mapped_column(String(64), default="")
    paid_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    verify_token: Mapped[str] = mapped_column(String(32))
