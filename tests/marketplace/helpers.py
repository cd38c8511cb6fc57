"""Small helpers for the marketplace tests: vendors with payment accounts, vendor users, products, checkouts."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

from sqlalchemy import select

from app.auth.models import Membership, User
from app.auth.passwords import hash_password
from app.extensions import db
from app.payments.models import PaymentIntent
from marketplace import services
from marketplace.models import Order, Product, SubOrder
from tenants.vendors.models import Vendor, VendorMembership
from tenants.vendors.payments import BankDetails, set_vendor_account
from tenants.scoping import all_tenants, tenant_context
from tests.conftest import TEST_PASSWORD

_numbers = itertools.count(1)


def make_vendor(app, tenant, name: str = "Gốm Minh Long", *, account: bool = True, slug: str | None = None,
                active: bool = True) -> int:
    """A vendor of ``tenant`` (with a payment account unless ``account=False``); returns its id."""
    from app.text import slugify

    n = next(_numbers)
    with app.app_context(), tenant_context(tenant):
        vendor = Vendor(business_name=name, slug=slug or f"{slugify(name)}-{n}", owner_name="Nguyễn Văn An",
                        phone="0912345678", goods_category="handicrafts", description="", active=active,
                        at_market=False,
                        kind="household")
        db.session.add(vendor)
        db.session.commit()
        if account:
            set_vendor_account(vendor, BankDetails("970436", f"10{n:08d}", "NGUYEN VAN AN"))
            db.session.commit()  # the service flushes; the helper is the boundary
        return vendor.id


def make_vendor_user(app, tenant, vendor_id: int, email: str) -> None:
    with app.app_context(), tenant_context(tenant):
        user = User(email=email, name=email.split("@")[0], password_hash=hash_password(TEST_PASSWORD), active=True)
        membership = Membership(role="vendor", tenant_id=tenant.id)
        user.memberships.append(membership)
        db.session.add(user)
        db.session.flush()
        db.session.add(VendorMembership(membership_id=membership.id, vendor_id=vendor_id))
        db.session.commit()


def make_product(app, tenant, vendor_id: int, name: str = "Bình gốm men lam Bát Tràng", *, price: int = 250_000,
                 stock: int = 10, category: str = "thu-cong-my-nghe", publish: bool = True, stars: int | None = None,
                 featured: bool = False, photo: bool = True) -> int:
    data = {"name": name, "category": category, "price": str(price), "stock": str(stock), "unit": "cái"}
    if stars:
        data.update(ocop_stars=str(stars), ocop_certificate=f"OCOP-{next(_numbers)}")
    with app.app_context(), tenant_context(tenant):
        product = services.create_product(vendor_id, data)
        if photo:  # test data: a photo's name stands for the photo a product is published with
            product.images = [f"{next(_numbers):064x}"]
        if publish:
            services.set_published(vendor_id, product.id, True)
        product.featured = featured
        db.session.commit()
        return product.id


def product_state(app, product_id: int) -> dict:
    with app.app_context(), all_tenants():
        p = db.session.scalar(select(Product).where(Product.id == product_id))
        return {"stock": p.stock, "reserved": p.reserved, "status": p.status}


def checkout(app, lines, *, hold=timedelta(minutes=30), phone: str = "0912345678") -> str:
    """A committed checkout of ``lines`` [(product id, quantity)]; returns the order code."""
    with app.app_context():
        order = services.checkout(lines, services.clean_buyer("Trần Thị Bình", phone, "Số 1 Trâu Quỳ"), hold)
        db.session.commit()
        return order.code


def check_out_page(client, phone: str = "0912 345 678", **fields) -> str:
    """The shopper on ``client`` checks its cart out through the checkout page (name, ``phone``, address, and any
    other ``fields`` posted with them); returns the order code of the page it is sent to."""
    page = client.get("/marketplace/checkout").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/marketplace/checkout", data={
        "csrf_token": token, "name": "Trần Thị Bình", "phone": phone, "address": "Số 1 Trâu Quỳ", "note": "",
        **fields})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def sub_orders(app, code: str) -> list[dict]:
    with app.app_context(), all_tenants():
        order = db.session.scalar(select(Order).where(Order.code == code))
        subs = db.session.scalars(select(SubOrder).where(SubOrder.order_id == order.id).order_by(SubOrder.id)).all()
        out = []
        for sub in subs:
            intent = db.session.scalar(select(PaymentIntent).where(PaymentIntent.public_id == sub.intent_id))
            out.append({"id": sub.id, "tenant_id": sub.tenant_id, "vendor_id": sub.vendor_id, "status": sub.status,
                        "subtotal": sub.subtotal, "refund_due": sub.refund_due, "late_payment": sub.late_payment,
                        "intent": sub.intent_id, "reference": intent.reference_code, "intent_status": intent.status,
                        "amount": intent.amount, "account_number": intent.account.account_number,
                        "intent_tenant": intent.tenant_id, "purpose": intent.purpose})
        return out


def offer(app, tenant, vendor_id: int, **values) -> None:
    """Set a producer's delivery and pick-up columns (offers_delivery, delivery_fee, delivery_estimate,
    offers_pickup, pickup_place, pickup_estimate) directly, committed."""
    with app.app_context(), tenant_context(tenant):
        vendor = db.session.scalar(select(Vendor).where(Vendor.id == vendor_id))
        for name, value in values.items():
            setattr(vendor, name, value)
        db.session.commit()
