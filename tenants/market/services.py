"""Market rules: markets and stalls, onboarding the market's vendors (tenants/vendors/ makes the vendor, the market
lets it a stall), sales at the stall, the stall poster. Services flush; the view, CLI command or job commits.

Queries here carry no tenant filter: the scoping mechanism adds it (tenants/scoping.py). A vendor's own records
are also filtered by ``vendor_id``: another vendor's sale does not exist for them (NotFound, a 404).
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app import locks
from app.auth.models import User
from app.clock import utcnow
from app.errors import Conflict, NotFound, ValidationError
from app.extensions import db
from app.text import normalize, slugify
from tenants.market import payments
from tenants.market.models import GOODS_CATEGORY_CODES, Market, MarketSale, Stall
from tenants.market.statuses import BANK, BY_HAND, CANCELED, CASH, PAID, PENDING, QR, VOIDED
from tenants.vendors import payments as vendor_payments
from tenants.vendors import services as vendor_services
from tenants.vendors.models import Vendor
from tenants.vendors.services import get_vendor

MAX_SALE_AMOUNT = 10**13 - 1


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


def create_stall(market_id: int, number: str, goods_category: str = "other") -> Stall:
    """One stall, numbered as painted ("A15"), in a market: the registration form makes it when none is free."""
    market = get_market(market_id)
    number = _text(number).upper().replace(" ", "")
    check_goods_category(goods_category)
    if not number or len(number) > 20 or not number.isalnum():
        raise ValidationError(_l("Write the new stall's number as painted on it, like A15 (letters and digits)."),
                              field="new_stall")
    if db.session.scalar(select(func.count()).select_from(Stall).where(Stall.market_id == market.id,
                                                                      Stall.number == number)):
        raise Conflict(_l("This market already has a stall %(number)s.", number=number), field="new_stall")
    stall = Stall(market_id=market.id, number=number, row="", goods_category=goods_category)
    db.session.add(stall)
    db.session.flush()
    return stall


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


# --- vendors (the vendor itself is tenants/vendors/'s; the market adds its stall) ----------------------------

def onboard_vendor(tenant, *, business_name: str, owner_name: str, phone: str, email: str | None,
                   bank_bin: str, account_number: str, holder_name: str, goods_category: str = "other",
                   tax_code: str | None = None, kind: str = "household", stall_id: int | None = None,
                   description: str = "", at_market: bool = True, new_stall: str = "",
                   market_id: int | None = None) -> tuple[Vendor, User, str]:
    """A commune admin registers a vendor of the market: the vendor with its bank account and invitation
    (vendors.services.register_vendor), and the stall let to it: a free one (``stall_id``), or a new one numbered
    ``new_stall`` in ``market_id`` (the commune's only market when not given) when none is free. Returns
    (vendor, user, token); flushed."""
    check_goods_category(goods_category)
    new_stall = _text(new_stall)
    if new_stall and not stall_id:
        if market_id is None:
            only = markets()
            if len(only) != 1:
                raise ValidationError(_l("Choose the market of the new stall."), field="new_stall")
            market_id = only[0].id
        stall_id = create_stall(market_id, new_stall, goods_category).id
    stall = get_stall(stall_id) if stall_id else None
    if stall is not None and stall.vendor_id is not None:
        raise Conflict(_l("This stall is already let to another vendor."), field="stall_id")
    vendor, user, token = vendor_services.register_vendor(
        tenant, business_name=business_name, owner_name=owner_name, phone=phone, email=email, bank_bin=bank_bin,
        account_number=account_number, holder_name=holder_name, goods_category=goods_category, tax_code=tax_code,
        kind=kind, description=description, at_market=at_market)
    if stall is not None:
        stall.vendor_id = vendor.id
        db.session.flush()
    return vendor, user, token


def deactivate_vendor(vendor_id: int, tenant_id: int) -> Vendor:
    """The vendor stops (vendors.services.deactivate_vendor) and its stalls are free."""
    vendor = vendor_services.deactivate_vendor(vendor_id, tenant_id)
    db.session.execute(update(Stall).where(Stall.vendor_id == vendor.id).values(vendor_id=None))
    db.session.flush()
    return vendor


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


class NeedsConfirmation(ValidationError):
    """A cash sale above the confirmation threshold, not yet confirmed: the vendor is asked "really <amount>?"."""

    def __init__(self, amount: int):
        from app.formatting import format_vnd

        super().__init__(_l("Record a cash sale of %(amount)s? Check the amount: it is recorded as paid at once.",
                            amount=format_vnd(amount)), field="amount")
        self.amount = amount


def sale_ceiling() -> int:
    """The most one sale at a stall may be (config MARKET_SALE_CEILING): a typo of three zeros is refused."""
    return int(current_app.config["MARKET_SALE_CEILING"])


def confirmation_threshold() -> int:
    """Cash sales above this (config MARKET_SALE_CONFIRM_ABOVE) are recorded only once the vendor confirms them."""
    return int(current_app.config["MARKET_SALE_CONFIRM_ABOVE"])


def check_sale_amount(amount, method: str, confirmed: int | None = None) -> int:
    """The amount of a new sale, within the per-sale ceiling (QR and cash alike); a cash sale above the threshold
    must be ``confirmed`` with this very amount (NeedsConfirmation otherwise)."""
    from app.formatting import format_vnd

    amount = parse_amount(amount)
    if amount > sale_ceiling():
        raise ValidationError(_l("One sale can be at most %(most)s. Check the amount (%(amount)s), or ask the "
                                 "commune to raise the limit.", most=format_vnd(sale_ceiling()),
                                 amount=format_vnd(amount)), field="amount")
    if method == CASH and amount > confirmation_threshold() and confirmed != amount:
        raise NeedsConfirmation(amount)
    return amount


def _new_sale(vendor: Vendor, amount, note: str, method: str, confirmed: int | None = None) -> MarketSale:
    if not vendor.active:
        raise ValidationError(_l("This vendor is deactivated."))
    amount = check_sale_amount(amount, method, confirmed)
    note = _text(note)
    if len(note) > 200:
        raise ValidationError(_l("The note is too long (200 characters at most)."), field="note")
    place = primary_stall(vendor.id)
    stall, market = place if place else (None, None)
    return MarketSale(vendor_id=vendor.id, market_id=market.id if market else None,
                      stall_number=stall.number if stall else None,
                      goods_category=stall.goods_category if stall else vendor.goods_category,
                      amount=amount, note=note, method=method, created_at=utcnow())


def record_qr_sale(vendor_id: int, amount, note: str = "") -> MarketSale:
    """A sale paid by scanning: a payment intent for exactly this amount on the vendor's own account."""
    vendor = get_vendor(vendor_id)
    account = vendor_payments.vendor_account(vendor.id)
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


def record_cash_sale(vendor_id: int, amount, note: str = "", *, confirmed: int | None = None) -> MarketSale:
    """A cash sale, paid at once. Above the confirmation threshold ``confirmed`` must repeat the amount."""
    vendor = get_vendor(vendor_id)
    sale = _new_sale(vendor, amount, note, CASH, confirmed)
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


def lock_sale(sale_id: int) -> MarketSale | None:
    """The sale, locked and re-read: the named lock helper of market sales (after the intent, app/locks.py)."""
    return locks.lock_one(MarketSale, MarketSale.id == sale_id)


def confirm_money_received(vendor_id: int, sale_id: int, actor) -> MarketSale:
    """The vendor saw the transfer arrive in their bank app: a claim, by whom (payments.confirm_by_hand). The sale's
    intent is locked before the sale, as a bank notification does, so the two queue instead of deadlocking; the
    second finds the sale paid. A sale whose payment expired is canceled instead (returned canceled). Flushes
    only."""
    sale = get_sale(vendor_id, sale_id)
    if sale.method != QR or sale.intent_id is None:
        raise ValidationError(_l("Only a QR sale waiting for its transfer can be confirmed."))
    intent = payments.lock_sale_intent(sale.intent_id)
    sale = lock_sale(sale.id)
    if sale.status == PENDING and intent is not None and payments.apply_expiry(intent):
        return sale  # too late to confirm: the expiry is applied (the reaction cancels the sale), kept by the view
    if sale.status != PENDING or intent is None or intent.status != "requires_action":
        raise ValidationError(_l("Only a QR sale waiting for its transfer can be confirmed."))
    sale.confirmation, sale.confirmed_by_id = BY_HAND, actor.id
    payments.confirm_sale_by_hand(intent, sale.amount, actor, note=f"market sale {sale.id} confirmed by the vendor")
    return sale


def void_sale(vendor_id: int, sale_id: int, actor, reason: str) -> MarketSale:
    """The vendor takes back a cash sale (a typo): kept and marked voided, with who, when and why; its paid time is
    cleared, so it leaves every figure of paid sales. A QR sale is the bank's word and is not voided here."""
    sale = db.session.scalar(select(MarketSale).where(MarketSale.id == sale_id, MarketSale.vendor_id == vendor_id)
                             .with_for_update(of=MarketSale).execution_options(populate_existing=True))
    if sale is None:
        raise NotFound(_l("No such sale."))
    if sale.method != CASH or sale.status != PAID:
        raise ValidationError(_l("Only a cash sale that is recorded as paid can be voided."), field="reason")
    reason = _text(reason)
    if not reason:
        raise ValidationError(_l("Say why the sale is voided (for example: mistyped amount)."), field="reason")
    if len(reason) > 200:
        raise ValidationError(_l("The reason is too long (200 characters at most)."), field="reason")
    sale.status, sale.paid_at, sale.confirmation = VOIDED, None, None
    sale.voided_at, sale.voided_by_id, sale.void_reason = utcnow(), actor.id, reason
    db.session.flush()
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


def sale_refunded(tenant_id: int, intent_id: int) -> None:
    """The money of a paid sale is being given back: the sale no longer counts in the ledger (canceled)."""
    sale = _sale_of_intent(tenant_id, intent_id)
    if sale is None or sale.status != PAID:
        return
    sale.status, sale.paid_at = CANCELED, None
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
    account = vendor_payments.vendor_account(vendor.id)
    if account is None:
        raise ValidationError(_l("Add a bank account first: the poster's QR pays into it."))
    stall_line = ""
    if stall_id is not None:
        stall = get_stall(stall_id)
        if stall.vendor_id != vendor.id:
            raise NotFound(_l("No such stall."))
        stall_line = f"Sạp {stall.number} · {get_market(stall.market_id).name}"
    details = vendor_payments.bank_details(account)
    return PosterContent(payload=payments.static_payload(account), business_name=vendor.business_name,
                         stall_line=stall_line, bank_name=details.bank_name,
                         account_number=details.account_number, holder_name=details.holder_name)


def stalls_of_vendor(vendor_id: int) -> list[tuple[Stall, Market]]:
    return [(s, m) for s, m in db.session.execute(
        select(Stall, Market).join(Market, (Market.id == Stall.market_id) & (Market.tenant_id == Stall.tenant_id))
        .where(Stall.vendor_id == vendor_id).order_by(Market.name, Stall.number))]
