"""The market's records (the vendors they name are tenants/vendors/'s).

Market     a commune's market (chợ): name, address, opening hours
Stall      a numbered stall (sạp/ki-ốt) in a row of a market, with its goods category and, when let, its vendor
MarketSale one sale at a stall: by QR (a payment intent on the vendor's account) or cash
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
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db, one_of
from tenants.market.statuses import CONFIRMATIONS, SALE_METHODS, SALE_STATUSES
from tenants.scoping import RemembersOrigin, TenantScoped

# What is sold at a stall (and what a vendor mainly sells); the order is the order of pickers and charts.
GOODS_CATEGORIES = (
    ("vegetables", _l("Vegetables")),
    ("fruit", _l("Fruit")),
    ("meat", _l("Meat")),
    ("fish", _l("Fish and seafood")),
    ("poultry", _l("Poultry and eggs")),
    ("rice", _l("Rice and grains")),
    ("dry_goods", _l("Dry goods and spices")),
    ("cooked_food", _l("Cooked food")),
    ("flowers", _l("Flowers")),
    ("clothing", _l("Clothing and fabric")),
    ("household_goods", _l("Household goods")),
    ("ceramics", _l("Ceramics")),
    ("other", _l("Other")),
)
GOODS_CATEGORY_CODES = tuple(code for code, _label in GOODS_CATEGORIES)
GOODS_CATEGORY_LABELS = dict(GOODS_CATEGORIES)


class Market(TenantScoped, RemembersOrigin, db.Model):
    __tablename__ = "markets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "slug"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    slug: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(300), default="")
    opening_hours: Mapped[str] = mapped_column(String(120), default="")  # as people say it: "05:00–18:00 hằng ngày"
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Stall(TenantScoped, RemembersOrigin, db.Model):
    __tablename__ = "stalls"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "market_id", "number"),
        ForeignKeyConstraint(["tenant_id", "market_id"], ["markets.tenant_id", "markets.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "vendor_id"], ["vendors.tenant_id", "vendors.id"], ondelete="SET NULL"),
        CheckConstraint(one_of("goods_category", GOODS_CATEGORY_CODES), name="goods_category"),
        Index("ix_stalls_tenant_vendor", "tenant_id", "vendor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    market_id: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(20))  # as painted on the stall: "A12", "K-03"
    row: Mapped[str] = mapped_column(String(40), default="")
    goods_category: Mapped[str] = mapped_column(String(40), default="other")
    vendor_id: Mapped[int | None] = mapped_column(Integer)


class MarketSale(TenantScoped, RemembersOrigin, db.Model):
    """One sale. Market and goods category are copied from the stall at the time of sale, so the dashboard's
    figures per market and per category are plain GROUP BYs and do not move when a stall is reassigned."""

    __tablename__ = "market_sales"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("intent_id"),
        ForeignKeyConstraint(["tenant_id", "vendor_id"], ["vendors.tenant_id", "vendors.id"], ondelete="RESTRICT"),
        ForeignKeyConstraint(["tenant_id", "market_id"], ["markets.tenant_id", "markets.id"], ondelete="SET NULL"),
        ForeignKeyConstraint(["tenant_id", "intent_id"], ["payment_intents.tenant_id", "payment_intents.id"],
                             ondelete="RESTRICT"),
        CheckConstraint("amount > 0 AND amount <= 9999999999999", name="amount_positive"),
        CheckConstraint(one_of("method", SALE_METHODS), name="method"),
        CheckConstraint(one_of("status", SALE_STATUSES), name="status"),
        CheckConstraint(f"confirmation IS NULL OR {one_of('confirmation', CONFIRMATIONS)}", name="confirmation"),
        CheckConstraint("(method = 'qr') = (intent_id IS NOT NULL) OR demo", name="qr_has_intent"),
        CheckConstraint("(status = 'paid') = (paid_at IS NOT NULL)", name="paid_at"),
        Index("ix_market_sales_tenant_vendor_created", "tenant_id", "vendor_id", "created_at"),
        Index("ix_market_sales_tenant_status_paid", "tenant_id", "status", "paid_at"),
        # The district's sales: every commune's paid sales in a period (0014_district).
        Index("ix_market_sales_paid_figures", "paid_at", postgresql_include=["tenant_id", "method", "amount", "origin_tenant_id"],
              postgresql_where=text("status = 'paid'"), sqlite_where=text("status = 'paid'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(Integer)
    market_id: Mapped[int | None] = mapped_column(Integer)
    stall_number: Mapped[str | None] = mapped_column(String(20))
    goods_category: Mapped[str] = mapped_column(String(40), default="other")
    amount: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(200), default="")
    method: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    confirmation: Mapped[str | None] = mapped_column(String(10))
    intent_id: Mapped[int | None] = mapped_column(Integer)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    demo: Mapped[bool] = mapped_column(Boolean, default=False)  # seeded history (no payment intent behind it)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A voided sale (a mistyped cash sale taken back by the vendor): when, by whom, why; paid_at is cleared, so it
    # leaves every figure of paid sales (#19 item 1).
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    void_reason: Mapped[str | None] = mapped_column(String(200))
