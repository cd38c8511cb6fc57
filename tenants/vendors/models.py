"""The vendors' records: ``Vendor``, a household business or cooperative of a commune, which the market (its stalls
and sales) and the marketplace (its products and orders) build on. See docs/decisions.md ("Vendors")."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, CheckConstraint, DateTime, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db, one_of
from tenants.scoping import TenantScoped

VENDOR_KINDS = ("household", "cooperative")
VENDOR_KIND_LABELS = {"household": _l("Household business"), "cooperative": _l("Cooperative")}


class Vendor(TenantScoped, db.Model):
    """A household business (hộ kinh doanh) or cooperative (hợp tác xã) of a commune."""

    __tablename__ = "vendors"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "slug"),
        CheckConstraint(one_of("kind", VENDOR_KINDS), name="kind"),
        Index("ix_vendors_tenant_active", "tenant_id", "active"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="household")
    business_name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(120))  # readable, unique in the commune (storefront URLs)
    owner_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20))
    tax_code: Mapped[str | None] = mapped_column(String(14))
    # What the vendor mainly sells: one of the market's goods categories (checked there, no CHECK here: the
    # marketplace's producers may sell something else).
    goods_category: Mapped[str] = mapped_column(String(40), default="other")
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # When the vendor was deactivated (kept for the record; its sales and orders stay in the figures).
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
