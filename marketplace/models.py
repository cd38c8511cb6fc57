"""The marketplace's records.

Product, SubOrder and OrderLine are tenant-owned: a product belongs to its vendor's commune, a sub-order is one
vendor's share of a checkout. Order (one per checkout, guest details) spans communes, so it is not tenant-owned;
only its code and the shopper's phone open it again (marketplace/queries.py).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
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

from app.extensions import POSTGRESQL_ONLY, db, one_of
from marketplace.statuses import CATEGORY_SLUGS, FULFILMENTS, PRODUCT_STATUSES, SUB_ORDER_STATUS_VALUES
from tenants.scoping import RemembersOrigin, TenantScoped


MAX_ID = 2**31 - 1  # integer primary keys: a larger number in a URL or form names nothing (and must not reach SQL)


class Product(TenantScoped, RemembersOrigin, db.Model):
    """A vendor's listing. ``stock`` counts the units on hand, ``reserved`` those held by unpaid sub-orders; what
    can still be bought is ``stock - reserved`` (never negative: the CHECK below and the conditional UPDATE of
    services.checkout)."""

    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "slug"),
        ForeignKeyConstraint(["tenant_id", "vendor_id"], ["vendors.tenant_id", "vendors.id"], ondelete="RESTRICT"),
        CheckConstraint("stock >= reserved AND reserved >= 0", name="stock_covers_reserved"),
        CheckConstraint("price > 0 AND price <= 9999999999999", name="price_positive"),
        CheckConstraint("ocop_stars IS NULL OR (ocop_stars >= 3 AND ocop_stars <= 5)", name="ocop_stars"),
        CheckConstraint(one_of("category", CATEGORY_SLUGS), name="category"),
        CheckConstraint(one_of("status", PRODUCT_STATUSES), name="status"),
        Index("ix_products_tenant_vendor", "tenant_id", "vendor_id", "id"),
        # The public catalogue reads across communes, newest first: this index serves it (see docs/decisions.md).
        Index("ix_products_status_created", "status", "created_at"),
        Index("ix_products_status_category", "status", "category"),
        # The district's producers and products: published products per commune and vendor, in order (0014_district).
        Index("ix_products_published_tenant_vendor", "tenant_id", "vendor_id",
              postgresql_include=["origin_tenant_id"],  # grouped by since 0029 (0036_district)
              postgresql_where=text("status = 'published'"), sqlite_where=text("status = 'published'")),
        # Search on PostgreSQL: trigrams of the folded name of published products, read by the catalogue_search()
        # function of migration 0013_catalogue (marketplace/search.py). Not on SQLite (see POSTGRESQL_ONLY).
        Index("ix_products_published_name_trgm", "name_folded", postgresql_using="gin",
              postgresql_ops={"name_folded": "gin_trgm_ops"}, postgresql_where=text("status = 'published'"),
              info={POSTGRESQL_ONLY: True}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    name_folded: Mapped[str] = mapped_column(String(200), default="")  # search key: no marks, lower case, words
    name_lower: Mapped[str] = mapped_column(String(200), default="")  # marks kept, lower case: exact matches rank first
    slug: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[int] = mapped_column(BigInteger)
    unit: Mapped[str] = mapped_column(String(30), default="cái")
    stock: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    images: Mapped[list] = mapped_column(JSON, default=list)  # content hashes of stored images (marketplace/images.py)
    ocop_stars: Mapped[int | None] = mapped_column(Integer)
    ocop_certificate: Mapped[str | None] = mapped_column(String(60))
    ocop_expires_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())

    @property
    def available(self) -> int:
        return self.stock - self.reserved


class CatalogueCount(TenantScoped, db.Model):
    """How many published products of active vendors a commune has in a product group: the catalogue's commune
    filter and the totals of its pages that have no text query.

    Kept by database triggers (migration 0013_catalogue), in the transaction that publishes, unpublishes, adds,
    regroups or deletes a product or (de)activates a vendor, so no write path can forget it, and a page sums at most
    communes x 6 rows instead of counting 200,000 products (docs/decisions.md, "Catalogue counts"). Never written by
    the application."""

    __tablename__ = "catalogue_counts"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"), primary_key=True)
    category: Mapped[str] = mapped_column(String(30), primary_key=True)
    products: Mapped[int] = mapped_column(Integer, default=0)


class Order(db.Model):
    """One checkout by a guest, split into one SubOrder per vendor. Not tenant-owned: it spans communes.

    ``client_address`` (the checkout's network address) and ``address_key`` (the delivery address folded) bound the
    units one client, phone number or address may hold unpaid (services.check_hold_limits, #16)."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_phone", "phone"),
        Index("ix_orders_client_address", "client_address"),
        Index("ix_orders_address_key", "address_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    buyer_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(300))
    note: Mapped[str] = mapped_column(String(500), default="")
    total: Mapped[int] = mapped_column(BigInteger)
    client_address: Mapped[str] = mapped_column(String(64), default="", server_default="")
    address_key: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SubOrder(TenantScoped, RemembersOrigin, db.Model):
    """One vendor's share of an order, paid by its own payment intent on the vendor's account."""

    __tablename__ = "sub_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(["tenant_id", "vendor_id"], ["vendors.tenant_id", "vendors.id"], ondelete="RESTRICT"),
        CheckConstraint(one_of("status", SUB_ORDER_STATUS_VALUES), name="status"),
        CheckConstraint("subtotal > 0", name="subtotal_positive"),
        CheckConstraint(one_of("fulfilment", FULFILMENTS), name="fulfilment"),
        CheckConstraint("shipping_fee >= 0 AND shipping_fee < subtotal AND (fulfilment = 'delivery' OR shipping_fee = 0)",
                        name="shipping_fee"),
        Index("ix_sub_orders_tenant_vendor_status", "tenant_id", "vendor_id", "status"),
        Index("ix_sub_orders_tenant_created", "tenant_id", "created_at"),
        # The district's orders: every commune's sub-orders placed in a period (0014_district).
        Index("ix_sub_orders_created_figures", "created_at",
              postgresql_include=["tenant_id", "status", "subtotal", "origin_tenant_id"]),  # 0036_district
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    vendor_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="awaiting_payment")
    subtotal: Mapped[int] = mapped_column(BigInteger)  # the amount due: the goods + shipping_fee (its intent's)
    # The shopper's choice among what the producer offered at checkout (#19, 0031_uxcart), kept as it was then.
    fulfilment: Mapped[str] = mapped_column(String(10), default="delivery", server_default="delivery")
    shipping_fee: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    fulfilment_estimate: Mapped[str] = mapped_column(String(60), default="", server_default="")
    pickup_place: Mapped[str] = mapped_column(String(200), default="", server_default="")
    intent_id: Mapped[str | None] = mapped_column(String(40), unique=True)  # the payment intent's public id
    hold_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    refund_due: Mapped[bool] = mapped_column(Boolean, default=False)  # money arrived that must go back
    late_payment: Mapped[bool] = mapped_column(Boolean, default=False)  # paid after the hold, stock taken again
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_by_shopper: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    canceled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def goods(self) -> int:
        return self.subtotal - self.shipping_fee


class OrderLine(TenantScoped, db.Model):
    """A product in a sub-order, with the name and price it was bought at."""

    __tablename__ = "order_lines"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "sub_order_id"], ["sub_orders.tenant_id", "sub_orders.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"],
                             ondelete="RESTRICT"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price > 0", name="unit_price_positive"),
        Index("ix_order_lines_tenant_sub_order", "tenant_id", "sub_order_id"),
        Index("ix_order_lines_tenant_product", "tenant_id", "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sub_order_id: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(30))
    unit_price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
