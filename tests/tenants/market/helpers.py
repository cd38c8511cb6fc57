"""Market test helpers: a commune's market with stalls, onboarded vendors (through the real service) who can sign in,
sales, and reads of the database."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from app.auth.passwords import hash_password
from app.extensions import db
from tenants.market import services
from tenants.market.models import MarketSale
from tenants.scoping import all_tenants, tenant_context
from tests.conftest import TEST_PASSWORD, csrf_token, login

_numbers = itertools.count(1)


@dataclass(frozen=True)
class VendorInfo:
    id: int
    tenant_id: int
    tenant_slug: str
    email: str
    user_id: int
    account_number: str
    bank_bin: str
    stall_id: int | None
    token: str


def make_market(app, tenant, name: str = "Chợ Trâu Quỳ", stalls: int = 4) -> tuple[int, list[int]]:
    with app.app_context(), tenant_context(tenant):
        market = services.create_market(name, "Ngõ 1 Trâu Quỳ", "05:00–18:00")
        made = services.add_stalls(market.id, "A", 1, stalls, "A", "vegetables")
        db.session.commit()
        return market.id, [s.id for s in made]


def make_vendor(app, tenant, *, name: str = "Rau sạch Hường", stall_id: int | None = None,
                account_number: str | None = None, bank_bin: str = "970415", password: str | None = TEST_PASSWORD,
                goods_category: str = "vegetables") -> VendorInfo:
    """A vendor onboarded by the commune (the real service); with ``password`` its user has set one."""
    n = next(_numbers)
    account_number = account_number or f"1133{n:08d}"
    email = f"vendor{n}@{tenant.slug}.vn"
    with app.app_context(), tenant_context(tenant):
        vendor, user, token = services.onboard_vendor(
            tenant, business_name=f"{name} {n}", owner_name="Nguyễn Thị Hường", phone="0912345678", email=email,
            bank_bin=bank_bin, account_number=account_number, holder_name="Nguyễn Thị Hường",
            goods_category=goods_category, stall_id=stall_id)
        if password:
            user.password_hash = hash_password(password)
        db.session.commit()
        return VendorInfo(vendor.id, tenant.id, tenant.slug, email, user.id, account_number, bank_bin, stall_id,
                          token)


def sale(app, sale_id: int) -> MarketSale:
    with app.app_context(), all_tenants():
        row = db.session.scalar(select(MarketSale).where(MarketSale.id == sale_id))
        db.session.expunge_all()
        return row


def sales_of(app, vendor_id: int) -> list[MarketSale]:
    with app.app_context(), all_tenants():
        rows = list(db.session.scalars(select(MarketSale).where(MarketSale.vendor_id == vendor_id)
                                       .order_by(MarketSale.id)))
        db.session.expunge_all()
        return rows


def english(client) -> None:
    """Messages in the test's language (the UI defaults to Vietnamese)."""
    with client.session_transaction() as session:
        session["lang"] = "en"


# The staff's onboarding form, as a commune admin fills it in (tests of the page, and of signing in by phone).
VENDOR_FORM = {
    "business_name": "Hộ kinh doanh Rau sạch Hường", "kind": "household", "owner_name": "Nguyễn Thị Hường",
    "phone": "0912 345 678", "email": "huong@trauquy.vn", "tax_code": "", "goods_category": "vegetables",
    "stall_id": "", "bank_bin": "970415", "account_number": "113366668888", "holder_name": "Nguyễn Thị Hường",
}


@pytest.fixture
def admin(app, client, make):
    """Trâu Quỳ, its commune admin signed in on ``client``, the pages in English (import it as a fixture)."""
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    make.user("admin@trauquy.vn", "commune_admin", tenant)
    login(client, "admin@trauquy.vn")
    english(client)
    return tenant


def onboard(client, **changes):
    """The signed-in admin registers a vendor on Trâu Quỳ's onboarding page: ``VENDOR_FORM`` with ``changes``."""
    token = csrf_token(client, "/c/trau-quy/market/vendors/new")
    return client.post("/c/trau-quy/market/vendors/new", data={**VENDOR_FORM, **changes, "csrf_token": token})
