"""The marketplace's one door to payments: a sub-order's intent on its vendor's own account, what the order page
shows of each intent, and expiry. Payments reach the marketplace back through ``payment_event`` (see
``marketplace/__init__.py``); payments imports nothing from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from app.clock import as_utc
from app.errors import ValidationError
from app.extensions import db
from app.payments import checks, intents
from app.payments.banks import get_bank
from app.payments.descriptions import register as describe_as
from app.payments.models import BankTransfer, PaymentIntent
from tenants.scoping import all_tenants
from tenants.vendors.payments import vendor_account

PURPOSE = "marketplace_order"
describe_as(PURPOSE, lambda intent: _("Order %(code)s", code=intent.metadata_["order"]))


def request_payment(*, vendor_id: int, vendor_name: str, amount: int, order_code: str, sub_order_id: int,
                    hold: timedelta) -> PaymentIntent:
    """An intent for one sub-order, on the vendor's own account in the active (the vendor's) commune; flushed.
    It expires with the hold, so the QR stops being payable when the stock goes back on sale."""
    account = vendor_account(vendor_id)
    if account is None:
        raise ValidationError(_l("%(vendor)s cannot take payments yet. Remove their products from the cart.",
                                 vendor=vendor_name), field="cart")
    return intents.create_intent(
        account, amount, purpose=PURPOSE, ttl=hold, description=f"Đơn hàng {order_code}",
        metadata={"order": order_code, "sub_order": str(sub_order_id)},
    )


@dataclass(frozen=True)
class PaymentView:
    public_id: str
    status: str
    amount: int
    amount_received: int
    reference_code: str
    qr_payload: str
    expires_at: datetime
    flag: str | None
    bank_name: str
    account_number: str
    holder_name: str
    paid_at: datetime | None = None  # the receipt (#19): when the bank moved the money, once paid
    bank_reference: str = ""  # the bank's own reference of the transfer that paid it


def _receipts(intents_: list) -> dict[int, tuple[datetime | None, str]]:
    """(time of the bank transfer, its bank reference) of each paid intent: the first transfer matched to it, its
    time as the bank gave it (else when it was heard, else when the intent succeeded). One query."""
    paid = {intent.id: intent for intent in intents_ if intent.status == "succeeded"}
    if not paid:
        return {}
    first: dict[int, tuple] = {}
    for intent_id, occurred, received, reference, txn in db.session.execute(
            select(BankTransfer.intent_id, BankTransfer.occurred_at, BankTransfer.received_at,
                   BankTransfer.bank_reference, BankTransfer.provider_txn_id)
            .where(BankTransfer.intent_id.in_(sorted(paid))).order_by(BankTransfer.id)):
        first.setdefault(intent_id, (occurred or received, reference or txn or ""))
    return {intent_id: first.get(intent_id, (intent.succeeded_at, "")) for intent_id, intent in paid.items()}


def payment_views(public_ids: list[str]) -> dict[str, PaymentView]:
    """The intents of an order's sub-orders with their accounts (one query across communes: the order page is
    opened by its code and phone, the intents' public ids come from the order itself)."""
    ids = [i for i in public_ids if i]
    if not ids:
        return {}
    with all_tenants():
        intents_ = db.session.scalars(select(PaymentIntent).where(PaymentIntent.public_id.in_(ids))).all()
        receipts = _receipts(intents_)
        views = {}
        for intent in intents_:
            account = intent.account  # joined eagerly with the intent
            bank = get_bank(account.bank_bin)
            views[intent.public_id] = PaymentView(
                intent.public_id, intent.status, intent.amount, intent.amount_received, intent.reference_code,
                intent.qr_payload, intent.expires_at, intent.flag, bank.short_name if bank else account.bank_bin,
                account.account_number, account.holder_name, *receipts.get(intent.id, (None, "")))
    return views


def expire_due(now: datetime | None = None) -> int:
    """Cancel every payment intent past its expiry (all purposes, all communes). Each canceled marketplace intent
    releases its sub-order's stock through the reaction in marketplace/__init__.py, in the same transaction."""
    return intents.expire_due(now)


def expire_if_due(public_id: str) -> None:
    """Expiry applied on read for one intent (the order page): locked and re-read, so a payment holding the lock
    is never overwritten; the page's unit of work commits it."""
    with all_tenants():
        intent = db.session.scalar(
            select(PaymentIntent).where(PaymentIntent.public_id == public_id)
            .with_for_update(of=PaymentIntent).execution_options(populate_existing=True))  # locked, fresh
        if intent is not None:
            intents.apply_expiry(intent)


def extend_hold(public_id: str, until: datetime) -> datetime | None:
    """The shopper opened the QR: its intent stays payable until ``until`` (never shortened, never revived). Locked
    and re-read; returns the new expiry, or None when the intent is no longer payable (flushed)."""
    with all_tenants():
        intent = intents.lock_intent(public_id=public_id)
        if intent is None or intent.status in intents.TERMINAL_STATUSES or intents.is_expired(intent):
            return None
        if as_utc(intent.expires_at) < until:
            intent.expires_at = until
            db.session.flush()
        return intent.expires_at


def lock_intent(public_id: str) -> PaymentIntent | None:
    """A sub-order's intent (in the active commune, the vendor's), locked: taken before the sub-order."""
    return intents.lock_intent(public_id=public_id)


def late_payment_taken(intent: PaymentIntent) -> None:
    """The order took its late payment (its units were free): the intent is paid after all and the transfer leaves
    the commune's inbox, where "Give the money back" would otherwise refund goods the shopper keeps."""
    from app.payments.bank.reconciliation import accept_late_by_domain

    accept_late_by_domain(intent)


def cancel_payment(public_id: str) -> None:
    """The vendor canceled an unpaid sub-order: its QR must stop being payable. ``cancel_intent`` flushes; the
    caller's unit of work commits it with the sub-order's change, or rolls both back. A transfer that still arrives
    is a late payment."""
    intent = db.session.scalar(select(PaymentIntent).where(PaymentIntent.public_id == public_id))
    if intent is None or intent.status in ("canceled", "succeeded"):
        return
    try:
        intents.cancel_intent(intent, "requested_by_customer")
    except ValidationError:  # money arrived or it expired meanwhile: the reaction has handled it
        pass


def qr_image_url(view: PaymentView) -> str:
    from app.payments.qr import image_version
    from flask import url_for

    return url_for("payments.qr_image", public_id=view.public_id, kind="svg",
                   v=image_version(view.qr_payload, "svg"))


# --- the marketplace's money invariants (``flask payments check``, app/payments/checks.py) -------------------------

def check_reserved_stock() -> list[str]:
    """Each product's reserved units are exactly the units of its sub-orders still awaiting payment."""
    from sqlalchemy import func

    from marketplace.models import OrderLine, Product, SubOrder
    from marketplace.statuses import AWAITING_PAYMENT

    held = (select(OrderLine.product_id, func.sum(OrderLine.quantity).label("held"))
            .join(SubOrder, SubOrder.id == OrderLine.sub_order_id).where(SubOrder.status == AWAITING_PAYMENT)
            .group_by(OrderLine.product_id).subquery())
    rows = db.session.execute(
        select(Product.id, Product.reserved, func.coalesce(held.c.held, 0))
        .outerjoin(held, held.c.product_id == Product.id)
        .where(Product.reserved != func.coalesce(held.c.held, 0)).order_by(Product.id))
    return [f"product {pid}: reserved {reserved}, unpaid sub-orders hold {int(units)}" for pid, reserved, units in rows]


def check_paid_not_refunded() -> list[str]:
    """No sub-order counts as paid while its money has gone back (what the bank moved less what is refunded is
    below the amount due)."""
    from marketplace.models import SubOrder
    from marketplace.statuses import CONFIRMED, DELIVERED, PAID, SHIPPED

    rows = db.session.execute(
        select(SubOrder.id, SubOrder.status, PaymentIntent.public_id)
        .join(PaymentIntent, (PaymentIntent.public_id == SubOrder.intent_id)
              & (PaymentIntent.tenant_id == SubOrder.tenant_id))
        .where(SubOrder.status.in_((PAID, CONFIRMED, SHIPPED, DELIVERED)), PaymentIntent.amount_refunded > 0,
               PaymentIntent.amount_received - PaymentIntent.amount_refunded < PaymentIntent.amount)
        .order_by(SubOrder.id))
    return [f"sub-order {sid} is {status} but the money of {pid} was refunded" for sid, status, pid in rows]


checks.register("marketplace reserved stock", check_reserved_stock)
checks.register("marketplace paid sub-orders", check_paid_not_refunded)
