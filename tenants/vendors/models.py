"""The vendors' records. See docs/decisions.md ("Vendors").

Vendor            a household business or cooperative of a commune, which the market (its stalls and sales) and the
                  marketplace (its products and orders) build on
VendorAccount     a payment account that is a vendor's (its bank account; earlier ones stay, inactive)
VendorMembership  the vendor that a user's vendor membership of the commune acts for (its sign-in)

The last two are the vendor's side of the edges to payments and to sign-in: payment_accounts and memberships name
no vendor, the vendors package points at them.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db, one_of
from tenants.scoping import RemembersOrigin, TenantScoped

VENDOR_KINDS = ("household", "cooperative")
VENDOR_KIND_LABELS = {"household": _l("Household business"), "cooperative": _l("Cooperative")}


class Vendor(TenantScoped, RemembersOrigin, db.Model):
    """A household business (hộ kinh doanh) or cooperative (hợp tác xã) of a commune."""

    __tablename__ = "vendors"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "slug"),
        CheckConstraint(one_of("kind", VENDOR_KINDS), name="kind"),
        CheckConstraint("delivery_fee >= 0 AND delivery_fee <= 99999999 AND (offers_delivery OR offers_pickup)",
                        name="delivery_offer"),
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
    # A market vendor (a household business at a stall of the commune's market), or a producer who sells on the
    # marketplace only: only market vendors count in the market's figures (#19 item 2).
    at_market: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # What a marketplace producer offers its shoppers (#19, 0031_uxcart; set in the marketplace's shop settings):
    # delivery at a flat fee in đồng (0 allowed) with an estimate ("2–3 ngày"), pick-up at a place, or both.
    offers_delivery: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    delivery_fee: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    delivery_estimate: Mapped[str] = mapped_column(String(60), default="", server_default="")
    offers_pickup: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    pickup_place: Mapped[str] = mapped_column(String(200), default="", server_default="")
    pickup_estimate: Mapped[str] = mapped_column(String(60), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # When the vendor was deactivated (kept for the record; its sales and orders stay in the figures).
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class VendorAccount(TenantScoped, db.Model):
    """A payment account of the vendor. An account is one vendor's at most (its id is the key); a vendor keeps its
    earlier accounts, inactive, so that their payments stay readable."""

    __tablename__ = "vendor_accounts"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "vendor_id"], ["vendors.tenant_id", "vendors.id"], ondelete="RESTRICT"),
        ForeignKeyConstraint(["tenant_id", "account_id"], ["payment_accounts.tenant_id", "payment_accounts.id"],
                             ondelete="CASCADE"),
        Index("ix_vendor_accounts_tenant_vendor", "tenant_id", "vendor_id"),
    )

    account_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    vendor_id: Mapped[int] = mapped_column(Integer)


class VendorMembership(TenantScoped, db.Model):
    """The vendor a user's "vendor" membership of the commune acts for (a vendor user is bound to one vendor)."""

    __tablename__ = "vendor_memberships"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "vendor_id"], ["vendors.tenant_id", "vendors.id"], ondelete="CASCADE"),
        Index("ix_vendor_memberships_tenant_vendor", "tenant_id", "vendor_id"),
    )

    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), primary_key=True,
                                               autoincrement=False)
    vendor_id: Mapped[int] = mapped_column(Integer)
