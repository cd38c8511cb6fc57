"""Market rules: markets and stalls, onboarding vendors (with their bank account and a sign-in invitation), the
vendor's own profile and account, sales. Services flush; the view, CLI command or job commits.

Queries here carry no tenant filter: the scoping mechanism adds it (tenants/scoping.py). A vendor's own records
are also filtered by ``vendor_id``: another vendor's sale does not exist for them (NotFound, a 404).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app.clock import utcnow
from app.auth import services as account_services
from app.auth.models import Membership, User
from app.auth.passwords import hash_password
from app.errors import Conflict, NotFound, ValidationError
from app.extensions import db
from app.text import normalize, slugify
from tenants.market import invitations, payments
from tenants.market.models import (
    GOODS_CATEGORY_CODES,
    VENDOR_KINDS,
    Market,
    MarketSale,
    Stall,
    Vendor,
)
from tenants.market.statuses import BANK, BY_HAND, CANCELED, CASH, PAID, PENDING, QR

MAX_SALE_AMOUNT = 10**13 - 1
_PHONE = re.compile(r"^\+?[0-9]{8,15}$")
_TAX_CODE = re.compile(r"^[0-9]{10}([0-9]{3})?$")


def _text(value: str | None) -> str:
    """User text as stored: NFC, stripped, and without NUL characters (PostgreSQL text cannot hold them)."""
    return normalize(value).replace("\x00", "")



# --- markets and stalls -----------------------------------------------------------------------------------------

def markets() -> list[Market]:
    return list(db.session.scalars(select(Market).order_by(Market.name, Market.id)))


def get_market(market_id: int) -> Market:
    market = db.session.scalar(select(Market).where(Market.id == market_id))
    if market is None:
        raise NotFound(_l("No such market."))
    return market


def create_market(name: str, address: str = "", opening_hours: str = "") -> Market:
    name, address, opening_hours = _text(name), _text(address), _text(opening_hours)
    if not name or len(name) > 160:
        raise ValidationError(_l("Enter the market's name (160 characters at most)."), field="name")
    if len(address) > 300 or len(opening_hours) > 120:
        raise ValidationError(_l("The address or the opening hours are too long."), field="address")
    slug = slugify(name)[:120] or "cho"
    if db.session.scalar(select(func.count()).select_from(Market).where(Market.slug == slug)):
        raise Conflict(_l("This commune already has a market with this name."), field="name")
    market = Market(name=name, slug=slug, address=address, opening_hours=opening_hours, active=True)
    db.session.add(market)
    db.session.flush()
    return market


def check_goods_category(code: str | None) -> str:
    if code not in GOODS_CATEGORY_CODES:
        raise ValidationError(_l("Choose a goods category from the list."), field="goods_category")
    return code


def add_stalls(market_id: int, row: str, first: int, last: int, prefix: str = "",
               goods_category: str = "other") -> list[Stall]:
    """Stalls ``prefix+first`` .. ``prefix+last`` in one row of a market (numbers already there are refused)."""
    market = get_market(market_id)
    row, prefix = _text(row), _text(prefix).upper()
    check_goods_category(goods_category)
    if not (isinstance(first, int) and isinstance(last, int)) or not (1 <= first <= last <= 9999):
        raise ValidationError(_l("Give stall numbers from 1 to 9999, the first not above the last."), field="first")
    if last - first >= 500:
        raise ValidationError(_l("Add at most 500 stalls at a time."), field="last")
    if len(row) > 40 or len(prefix) > 8:
        raise ValidationError(_l("The row or the prefix is too long."), field="row")
    numbers = [f"{prefix}{n:02d}" for n in range(first, last + 1)]
    taken = set(db.session.scalars(select(Stall.number).where(Stall.market_id == market.id,
                                                              Stall.number.in_(numbers))))
    if taken:
        raise Conflict(_l("These stall numbers already exist: %(numbers)s", numbers=", ".join(sorted(taken))),
                       field="first")
    stalls = [Stall(market_id=market.id, number=n, row=row, goods_category=goods_category) for n in numbers]
    db.session.add_all(stalls)
    db.session.flush()
    return stalls


def stalls_of(market_id: int) -> list[Stall]:
    return list(db.session.scalars(select(Stall).where(Stall.market_id == market_id)
                                   .order_by(Stall.row, Stall.number)))


def get_stall(stall_id: int) -> Stall:
    stall = db.session.scalar(select(Stall).where(Stall.id == stall_id))
    if stall is None:
        raise NotFound(_l("No such stall."))
    return stall


def assign_stall(stall_id: int, vendor_id: int | None) -> Stall:
    """Let a stall to an active vendor of the commune, or free it (``vendor_id`` None)."""
    stall = get_stall(stall_id)
    if vendor_id is not None:
        vendor = get_vendor(vendor_id)
        if not vendor.active:
            raise ValidationError(_l("This vendor is deactivated."), field="vendor_id")
    stall.vendor_id = vendor_id
    db.session.flush()
    return stall


def free_stalls(market_id: int | None = None) -> list[Stall]:
    query = select(Stall).where(Stall.vendor_id.is_(None)).order_by(Stall.market_id, Stall.row, Stall.number)
    if market_id is not None:
        query = query.where(Stall.market_id == market_id)
    return list(db.session.scalars(query))


# --- vendors ------------------------------------------------------------------------------------------------------

def get_vendor(vendor_id: int) -> Vendor:
    vendor = db.session.scalar(select(Vendor).where(Vendor.id == vendor_id))
    if vendor is None:
        raise NotFound(_l("No such vendor."))
    return vendor


def _clean_profile(business_name: str, owner_name: str, phone: str, tax_code: str | None,
                   goods_category: str, kind: str = "household") -> dict:
    business_name, owner_name = _text(business_name), _text(owner_name)
    phone = _text(phone).replace(" ", "").replace(".", "")
    tax_code = _text(tax_code).replace("-", "") or None
    if not business_name or len(business_name) > 200:
        raise ValidationError(_l("Enter the business name (200 characters at most)."), field="business_name")
    if not owner_name or len(owner_name) > 120:
        raise ValidationError(_l("Enter the owner's name (120 characters at most)."), field="owner_name")
    if not _PHONE.match(phone):
        raise ValidationError(_l("Enter a phone number of 8 to 15 digits."), field="phone")
    if tax_code is not None and not _TAX_CODE.match(tax_code):
        raise ValidationError(_l("A tax code has 10 or 13 digits."), field="tax_code")
    if kind not in VENDOR_KINDS:
        raise ValidationError(_l("Choose household business or cooperative."), field="kind")
    return {"business_name": business_name, "owner_name": owner_name, "phone": phone, "tax_code": tax_code,
            "goods_category": check_goods_category(goods_category), "kind": kind}


def _unique_vendor_slug(business_name: str) -> str:
    base = slugify(business_name)[:100] or "ho-kinh-doanh"
    taken = set(db.session.scalars(select(Vendor.slug).where(Vendor.slug.like(f"{base}%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def onboard_vendor(tenant, *, business_name: str, owner_name: str, phone: str, email: str,
                   bank_bin: str, account_number: str, holder_name: str, goods_category: str = "other",
                   tax_code: str | None = None, kind: str = "household", stall_id: int | None = None,
                   description: str = "") -> tuple[Vendor, User, str]:
    """A commune admin registers a vendor: the vendor, its bank account (checked first: a refusal saves nothing),
    a vendor user bound to it with no usable password, and the one-time invitation token to set one.
    Returns (vendor, user, token); flushed, the caller commits."""
    profile = _clean_profile(business_name, owner_name, phone, tax_code, goods_category, kind)
    details = payments.check_bank_details(bank_bin, account_number, holder_name)
    email = account_services.normalize_email(email)
    if account_services.get_user_by_email(email) is not None:
        raise Conflict(_l("An account with this email already exists."), field="email")
    stall = get_stall(stall_id) if stall_id else None
    if stall is not None and stall.vendor_id is not None:
        raise Conflict(_l("This stall is already let to another vendor."), field="stall_id")
    vendor = Vendor(**profile, slug=_unique_vendor_slug(profile["business_name"]),
                    description=_text(description)[:5000], active=True)
    db.session.add(vendor)
    db.session.flush()
    payments.set_vendor_account(vendor, details)
    # An unguessable password nobody knows: the vendor chooses theirs through the invitation link.
    user = User(email=email, name=profile["owner_name"], phone=profile["phone"],
                password_hash=hash_password(secrets.token_urlsafe(32)), active=True)
    user.memberships.append(Membership(tenant_id=tenant.id, role="vendor", vendor_id=vendor.id))
    db.session.add(user)
    if stall is not None:
        stall.vendor_id = vendor.id
    db.session.flush()
    return vendor, user, invitations.token_for(user)


def vendor_users(vendor_id: int, tenant_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == tenant_id, Membership.role == "vendor", Membership.vendor_id == vendor_id)
        .order_by(User.id)
    ))


def deactivate_vendor(vendor_id: int, tenant_id: int) -> Vendor:
    """The vendor stops: its users cannot sign in, its stalls are free, its bank account takes no new payments.
    Its sales stay in the ledger and the figures."""
    vendor = get_vendor(vendor_id)
    if not vendor.active:
        raise ValidationError(_l("This vendor is already deactivated."))
    vendor.active = False
    vendor.deactivated_at = utcnow()
    for user in vendor_users(vendor.id, tenant_id):
        user.active = False
    db.session.execute(update(Stall).where(Stall.vendor_id == vendor.id).values(vendor_id=None))
    payments.close_vendor_accounts(vendor.id)
    db.session.flush()
    return vendor


def update_profile(vendor_id: int, owner_name: str, phone: str, description: str) -> Vendor:
    """What a vendor may change about themselves (the business name and tax code are the commune's record)."""
    vendor = get_vendor(vendor_id)
    profile = _clean_profile(vendor.business_name, owner_name, phone, vendor.tax_code, vendor.goods_category,
                             vendor.kind)
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


# --- the sign-in invitation (tokens: tenants/market/invitations.py) ------------------------------------------

def new_invitation(vendor_id: int, tenant_id: int) -> tuple[User, str]:
    """A fresh link for the vendor's (first) user; earlier links stay valid until one of them is used."""
    vendor = get_vendor(vendor_id)
    users = vendor_users(vendor.id, tenant_id)
    if not vendor.active or not users:
        raise ValidationError(_l("This vendor is deactivated."))
    return users[0], invitations.token_for(users[0])


# --- sales ----------------------------------------------------------------------------------------------------------

def parse_amount(text: str | int | None) -> int:
    """Đồng as typed on a phone: "150000", "150.000", "150 000" (never a fraction)."""
    if isinstance(text, int) and not isinstance(text, bool):
        amount = text
    else:
        cleaned = _text(str(text or "")).replace(".", "").replace(" ", "").replace(",", "").replace("₫", "")
        if not cleaned.isascii() or not cleaned.isdigit():
            raise ValidationError(_l("Enter the amount in đồng, digits only."), field="amount")
        amount = int(cleaned)
    if amount <= 0:
        raise ValidationError(_l("The amount must be greater than zero."), field="amount")
    if amount > MAX_SALE_AMOUNT:
        raise ValidationError(_l("The amount is too large (13 digits at most)."), field="amount")
    return amount


def primary_stall(vendor_id: int) -> tuple[Stall, Market] | None:
    row = db.session.execute(
        select(Stall, Market).join(Market, (Market.id == Stall.market_id) & (Market.tenant_id == Stall.tenant_id))
        .where(Stall.vendor_id == vendor_id).order_by(Stall.id).limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def _new_sale(vendor: Vendor, amount, note: str, method: str) -> MarketSale:
    if not vendor.active:
        raise ValidationError(_l("This vendor is deactivated."))
    note = _text(note)
    if len(note) > 200:
        raise ValidationError(_l("The note is too long (200 characters at most)."), field="note")
    place = primary_stall(vendor.id)
    stall, market = place if place else (None, None)
    return MarketSale(vendor_id=vendor.id, market_id=market.id if market else None,
                      stall_number=stall.number if stall else None,
                      goods_category=stall.goods_category if stall else vendor.goods_category,
                      amount=parse_amount(amount), note=note, method=method, created_at=utcnow())


def record_qr_sale(vendor_id: int, amount, note: str = "") -> MarketSale:
    """A sale paid by scanning: a payment intent for exactly this amount on the vendor's own account."""
    vendor = get_vendor(vendor_id)
    account = payments.vendor_account(vendor.id)
    if account is None:
        raise ValidationError(_l("Add your bank account first: QR sales are paid into it."), field="amount")
    sale = _new_sale(vendor, amount, note, QR)
    label = " ".join(part for part in (vendor.business_name, sale.stall_number and f"#{sale.stall_number}",
                                       sale.note) if part)
    intent = payments.request_sale_payment(vendor.id, account, sale.amount, label)  # flushed: the sale points at it
    sale.status, sale.intent_id = PENDING, intent.id
    db.session.add(sale)
    db.session.flush()
    return sale


def record_cash_sale(vendor_id: int, amount, note: str = "") -> MarketSale:
    vendor = get_vendor(vendor_id)
    sale = _new_sale(vendor, amount, note, CASH)
    sale.status, sale.confirmation, sale.paid_at = PAID, CASH, sale.created_at
    db.session.add(sale)
    db.session.flush()
    return sale


def get_sale(vendor_id: int, sale_id: int) -> MarketSale:
    """One of this vendor's sales; another vendor's (same commune or not) does not exist here."""
    sale = db.session.scalar(select(MarketSale).where(MarketSale.id == sale_id, MarketSale.vendor_id == vendor_id))
    if sale is None:
        raise NotFound(_l("No such sale."))
    return sale


def confirm_money_received(vendor_id: int, sale_id: int, actor) -> MarketSale:
    """The vendor saw the transfer arrive in their bank app; recorded as confirmed by hand, by whom. Commits (the
    payments' confirm function does)."""
    sale = refresh_sale(get_sale(vendor_id, sale_id))  # an expired sale is canceled first, not confirmed
    if sale.method != QR or sale.status != PENDING:
        raise ValidationError(_l("Only a QR sale waiting for its transfer can be confirmed."))
    intent = payments.sale_intent(sale.intent_id)
    sale.confirmation, sale.confirmed_by_id = BY_HAND, actor.id
    payments.confirm_sale_by_hand(intent, sale.amount, actor, note=f"market sale {sale.id} confirmed by the vendor")
    return sale


def refresh_sale(sale: MarketSale) -> MarketSale:
    """A pending QR sale whose payment has expired turns canceled (the expiry is applied on read, and the reaction
    below follows it)."""
    if sale.status == PENDING and sale.intent_id:
        intent = payments.sale_intent(sale.intent_id)
        if intent is not None:
            payments.apply_expiry(intent)
            db.session.refresh(sale)
    return sale


# --- reactions to payments (connected in tenants/market/__init__.py) ----------------------------------------------

def _sale_of_intent(tenant_id: int, intent_id: int) -> MarketSale | None:
    # Called inside confirm_transfer, which runs across tenants: the tenant is named explicitly.
    return db.session.scalar(select(MarketSale).where(MarketSale.tenant_id == tenant_id,
                                                      MarketSale.intent_id == intent_id))


def sale_paid(tenant_id: int, intent_id: int, paid_at: datetime | None) -> None:
    """The intent succeeded: its sale is paid, once (a repeated notification finds it paid and changes nothing)."""
    sale = _sale_of_intent(tenant_id, intent_id)
    if sale is None or sale.status == PAID:
        return
    sale.status = PAID
    sale.paid_at = paid_at or utcnow()
    sale.confirmation = sale.confirmation or BANK
    db.session.flush()


def sale_canceled(tenant_id: int, intent_id: int) -> None:
    sale = _sale_of_intent(tenant_id, intent_id)
    if sale is None or sale.status != PENDING:
        return
    sale.status = CANCELED
    db.session.flush()


# --- the stall poster -----------------------------------------------------------------------------------------

def poster_content(vendor_id: int, stall_id: int | None = None):
    """What the poster of one of the vendor's stalls (or of the vendor, with no stall) shows."""
    from tenants.market.poster import PosterContent

    vendor = get_vendor(vendor_id)
    account = payments.vendor_account(vendor.id)
    if account is None:
        raise ValidationError(_l("Add a bank account first: the poster's QR pays into it."))
    stall_line = ""
    if stall_id is not None:
        stall = get_stall(stall_id)
        if stall.vendor_id != vendor.id:
            raise NotFound(_l("No such stall."))
        stall_line = f"Sạp {stall.number} · {get_market(stall.market_id).name}"
    details = payments.bank_details(account)
    return PosterContent(payload=payments.static_payload(account), business_name=vendor.business_name,
                         stall_line=stall_line, bank_name=details.bank_name,
                         account_number=details.account_number, holder_name=details.holder_name)


def stalls_of_vendor(vendor_id: int) -> list[tuple[Stall, Market]]:
    return [(s, m) for s, m in db.session.execute(
        select(Stall, Market).join(Market, (Market.id == Stall.market_id) & (Market.tenant_id == Stall.tenant_id))
        .where(Stall.vendor_id == vendor_id).order_by(Market.name, Stall.number))]
