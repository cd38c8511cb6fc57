"""Vendor rules: registering a vendor (its bank account and a sign-in invitation with it), the vendor's own profile
and bank account, deactivation. Services flush; the boundary commits (app/transactions.py).

Queries carry no tenant filter: the scoping mechanism adds it (tenants/scoping.py). Another commune's vendor does
not exist here (NotFound, a 404).
"""

from __future__ import annotations

import re
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from app.auth import services as account_services
from app.auth.models import Membership, User
from app.auth.passwords import hash_password
from app.clock import utcnow
from app.errors import Conflict, NotFound, ValidationError
from app.extensions import db
from app.text import clean_tax_code, normalize, slugify
from tenants.vendors import invitations, payments
from tenants.vendors.models import VENDOR_KINDS, Vendor, VendorMembership

_PHONE = re.compile(r"^\+?[0-9]{8,15}$")


def _text(value: str | None) -> str:
    """User text as stored: NFC, stripped, and without NUL characters (PostgreSQL text cannot hold them)."""
    return normalize(value).replace("\x00", "")


def get_vendor(vendor_id: int) -> Vendor:
    # Session.get: the vendor's pages read it twice (the page, its tab bar); the second from the identity map.
    # TenantSession.get answers None for another commune's vendor, as the scoped query did (tenants/scoping.py).
    vendor = db.session.get(Vendor, vendor_id)
    if vendor is None:
        raise NotFound(_l("No such vendor."))
    return vendor


def active_vendors() -> list[Vendor]:
    return list(db.session.scalars(select(Vendor).where(Vendor.active.is_(True)).order_by(Vendor.business_name)))


def clean_profile(business_name: str, owner_name: str, phone: str, tax_code: str | None,
                  kind: str = "household") -> dict:
    """The vendor's own fields as stored, checked in the order of the form; the first fault raises
    ValidationError naming its field."""
    business_name, owner_name = _text(business_name), _text(owner_name)
    phone = _text(phone).replace(" ", "").replace(".", "")
    if not business_name or len(business_name) > 200:
        raise ValidationError(_l("Enter the business name (200 characters at most)."), field="business_name")
    if not owner_name or len(owner_name) > 120:
        raise ValidationError(_l("Enter the owner's name (120 characters at most)."), field="owner_name")
    if not _PHONE.match(phone):
        raise ValidationError(_l("Enter a phone number of 8 to 15 digits."), field="phone")
    tax_code = clean_tax_code(tax_code)  # the one rule (app/text.py): 10 digits, or 10-3 for a branch
    if kind not in VENDOR_KINDS:
        raise ValidationError(_l("Choose household business or cooperative."), field="kind")
    return {"business_name": business_name, "owner_name": owner_name, "phone": phone, "tax_code": tax_code,
            "kind": kind}


def _unique_vendor_slug(business_name: str) -> str:
    base = slugify(business_name)[:100] or "ho-kinh-doanh"
    taken = set(db.session.scalars(select(Vendor.slug).where(Vendor.slug.like(f"{base}%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def register_vendor(tenant, *, business_name: str, owner_name: str, phone: str, email: str | None, bank_bin: str,
                    account_number: str, holder_name: str, goods_category: str = "other", tax_code: str | None = None,
                    kind: str = "household", description: str = "", at_market: bool = True
                    ) -> tuple[Vendor, User, str]:
    """The commune registers a vendor: the vendor, its bank account (checked first: a refusal saves nothing), a
    vendor user bound to it with no usable password, and the one-time invitation token to set one.
    Returns (vendor, user, token); flushed."""
    profile = clean_profile(business_name, owner_name, phone, tax_code, kind)
    details = payments.check_bank_details(bank_bin, account_number, holder_name)
    # A stallholder with no e-mail address signs in with their mobile number (#19): then it must be one, and no
    # other account's.
    email = account_services.normalize_email(email) if _text(email) else None
    login_phone = None if email else account_services.phone_for_sign_in(profile["phone"])
    if email and account_services.get_user_by_email(email) is not None:
        raise Conflict(_l("An account with this email already exists."), field="email")
    vendor = Vendor(**profile, goods_category=goods_category, slug=_unique_vendor_slug(profile["business_name"]),
                    description=_text(description)[:5000], active=True, at_market=bool(at_market))
    db.session.add(vendor)
    db.session.flush()
    payments.set_vendor_account(vendor, details)
    # An unguessable password nobody knows: the vendor chooses theirs through the invitation link.
    user = User(email=email, login_phone=login_phone, name=profile["owner_name"], phone=profile["phone"],
                password_hash=hash_password(secrets.token_urlsafe(32)), active=True)
    membership = Membership(tenant_id=tenant.id, role="vendor")
    user.memberships.append(membership)
    db.session.add(user)
    db.session.flush()
    db.session.add(VendorMembership(membership_id=membership.id, vendor_id=vendor.id))
    db.session.flush()
    return vendor, user, invitations.token_for(user)


def vendor_users(vendor_id: int, tenant_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .join(VendorMembership, VendorMembership.membership_id == Membership.id)
        .where(Membership.tenant_id == tenant_id, Membership.role == "vendor", VendorMembership.vendor_id == vendor_id)
        .order_by(User.id)
    ))


def bind_users(rows: list[dict]) -> None:
    """The demos' bulk sign-ins: for each ``{"user_id", "tenant_id", "vendor_id"}`` a "vendor" membership of the
    commune and the vendor it acts for, two multi-row INSERTs (inside ``all_tenants()``: rows name their commune)."""
    if not rows:
        return
    ids = db.session.execute(
        insert(Membership).returning(Membership.id, sort_by_parameter_order=True),
        [{"user_id": row["user_id"], "tenant_id": row["tenant_id"], "role": "vendor"} for row in rows]).scalars().all()
    db.session.execute(insert(VendorMembership), [
        {"membership_id": membership_id, "tenant_id": row["tenant_id"], "vendor_id": row["vendor_id"]}
        for row, membership_id in zip(rows, ids, strict=True)])


def deactivate_vendor(vendor_id: int, tenant_id: int) -> Vendor:
    """The vendor stops: its users cannot sign in, its bank accounts take no new payments. Its sales and orders
    stay in the figures. (The market frees its stalls: tenants/market/services.py.)"""
    vendor = get_vendor(vendor_id)
    if not vendor.active:
        raise ValidationError(_l("This vendor is already deactivated."))
    vendor.active = False
    vendor.deactivated_at = utcnow()
    for user in vendor_users(vendor.id, tenant_id):
        user.active = False
    payments.close_vendor_accounts(vendor.id)
    db.session.flush()
    return vendor


def update_profile(vendor_id: int, owner_name: str, phone: str, description: str) -> Vendor:
    """What a vendor may change about themselves (the business name and tax code are the commune's record)."""
    vendor = get_vendor(vendor_id)
    profile = clean_profile(vendor.business_name, owner_name, phone, vendor.tax_code, vendor.kind)
    description = _text(description)
    if len(description) > 5000:
        raise ValidationError(_l("The description is too long (5000 characters at most)."), field="description")
    vendor.owner_name, vendor.phone, vendor.description = profile["owner_name"], profile["phone"], description
    db.session.flush()
    return vendor


def change_bank_account(vendor_id: int, bank_bin: str, account_number: str, holder_name: str):
    vendor = get_vendor(vendor_id)
    details = payments.check_bank_details(bank_bin, account_number, holder_name)
    return payments.set_vendor_account(vendor, details)


def new_invitation(vendor_id: int, tenant_id: int) -> tuple[User, str]:
    """A fresh link for the vendor's (first) user; earlier links stay valid until one of them is used."""
    vendor = get_vendor(vendor_id)
    users = vendor_users(vendor.id, tenant_id)
    if not vendor.active or not users:
        raise ValidationError(_l("This vendor is deactivated."))
    return users[0], invitations.token_for(users[0])
