"""The marketplace's one door to payments: a sub-order's intent on its vendor's own account, what the order page
shows of each intent, and expiry. Payments reach the marketplace back through ``payment_event`` (see
``marketplace/__init__.py``); payments imports nothing from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.errors import ValidationError
from app.extensions import db
from app.payments import intents
from app.payments.banks import get_bank
from app.payments.models import PaymentIntent
from tenants.scoping import all_tenants
from tenants.vendors.payments import vendor_account

PURPOSE = "marketplace_order"


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


def payment_views(public_ids: list[str]) -> dict[str, PaymentView]:
    """The intents of an order's sub-orders with their accounts (one query across communes: the order page is
    opened by its code and phone, the intents' public ids come from the order itself)."""
    ids = [i for i in public_ids if i]
    if not ids:
        return {}
    with all_tenants():
        intents_ = db.session.scalars(select(PaymentIntent).where(PaymentIntent.public_id.in_(ids))).all()
        views = {}
        for intent in intents_:
            account = intent.account  # joined eagerly with the intent
            bank = get_bank(account.bank_bin)
            views[intent.public_id] = PaymentView(
                intent.public_id, intent.status, intent.amount, intent.amount_received, intent.reference_code,
                intent.qr_payload, intent.expires_at, intent.flag, bank.short_name if bank else account.bank_bin,
                account.account_number, account.holder_name)
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
