"""The one module of the one-stop office that talks to payments: fee intents out, payment events in.

``request_fee(dossier)`` creates a VietQR intent (purpose ``onestop_fee``) on the commune's fee account, in the
caller's transaction. When the bank's notification confirms it, ``app.payments.reactions`` calls ``_fee_event``
inside the confirming transaction, and the dossier moves on with it, exactly once (docs/payments.md).
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from app import locks
from app.errors import ValidationError
from app.extensions import db
from app.payments import accounts, intents, qr
from app.payments.models import PaymentIntent
from app.payments.descriptions import register as describe_as
from app.payments.reactions import payment_event
from tenants.onestop.models import Dossier
from tenants.scoping import tenant_context

PURPOSE = "onestop_fee"
FEE_TTL = timedelta(days=3)  # a citizen may pay at home after leaving the counter
describe_as(PURPOSE, lambda intent: _("Fee for dossier %(code)s", code=intent.metadata_["dossier"]))


def request_fee(dossier: Dossier) -> PaymentIntent:
    account = accounts.find_account()
    if account is None:
        raise ValidationError(_l("The commune has no fee account yet; ask its admin to add one."), field="action")
    intent = intents.create_intent(
        account, dossier.fee_amount, purpose=PURPOSE, ttl=FEE_TTL,
        description=f"Lệ phí hồ sơ {dossier.code}"[:500],
        metadata={"dossier": dossier.code, "return_path": _dossier_path(dossier)},  # the payment page's way back
    )
    dossier.fee_intent_id = intent.id
    return intent


def _dossier_path(dossier: Dossier) -> str:
    from flask import current_app

    from tenants.models import Tenant
    from tenants.scoping import all_tenants

    with all_tenants():
        slug = db.session.get(Tenant, dossier.tenant_id).slug
    return current_app.url_map.bind("localhost").build("onestop_lookup.dossier", {"tenant_slug": slug,
                                                                                  "code": dossier.code})


def fee_intent(dossier: Dossier) -> PaymentIntent | None:
    if dossier.fee_intent_id is None:
        return None
    intent = db.session.scalar(select(PaymentIntent).where(PaymentIntent.id == dossier.fee_intent_id))
    if intent is not None and intents.is_expired(intent):
        return None  # the payer's page would show a dead QR; the officer can request the fee again
    return intent


def fee_qr(intent: PaymentIntent) -> dict | None:
    """The fee's VietQR as the API shows it (``next_action.vietqr_display_qr_code``), or None when it takes no
    more money."""
    wire = intents.serialize(intent)
    return wire["next_action"]["vietqr_display_qr_code"] if wire["next_action"] else None


def qr_png(text: str) -> bytes:
    """A PNG QR code of ``text`` (the receipt's link to the dossier, an officer's rating page), drawn by the same
    codec as the payment QRs."""
    image, _etag, _mimetype = qr.qr_image(text, "png")
    return image


def cancel_fee(dossier: Dossier) -> None:
    """Paid in cash: the QR of the fee stops taking money (flushed with the caller's transaction)."""
    intent = db.session.scalar(select(PaymentIntent).where(PaymentIntent.id == dossier.fee_intent_id)) \
        if dossier.fee_intent_id else None
    if intent is not None and intent.status == "requires_action" and not intent.amount_received:
        try:
            intents.cancel_intent(intent, "requested_by_customer")  # flushes only
        except ValidationError:  # past its expiry: canceled as abandoned all the same
            pass


@payment_event.connect_via(PURPOSE)
def _fee_event(purpose, *, intent, event_type):
    """A fee intent succeeded: its dossier, waiting for the fee, goes back to processing. Runs inside the
    confirming transaction; flushes only. A dossier no longer waiting (paid in cash, withdrawn) is left alone: the
    transfer stays recorded on the intent for the office to refund."""
    if event_type == "refund.created":
        _fee_refunded(intent)
        return
    if event_type != "payment_intent.succeeded":
        return
    from tenants.onestop import services

    with tenant_context(intent.tenant_id):
        dossier = locks.lock_one(Dossier, Dossier.fee_intent_id == intent.id)  # after the intent (app/locks.py)
        if dossier is None or dossier.fee_paid_at is not None or not services.allowed(dossier, "fee_paid"):
            return
        services.record_fee_paid(dossier, "vietqr", reference=intent.reference_code or "")


def public_link(endpoint: str, **values) -> str:
    """An absolute link that leaves the site (a receipt's QR, the dossier's secret link): from PUBLIC_BASE_URL."""
    from app.payments.urls import public_url

    return public_url(endpoint, **values)


def _fee_refunded(intent: PaymentIntent) -> None:
    """A refund of a fee intent was created. Beyond the fee (paid twice, too much) it is the office's to give back.
    The fee itself, once the dossier is processed, paid for work done: the refund is refused with the reason staff
    see (the office settles it otherwise, by a decision on the dossier)."""
    from tenants.onestop.statuses import PROCESSED, RETURNED

    if intent.amount_received - intent.amount_refunded >= intent.amount:
        return
    with tenant_context(intent.tenant_id):
        dossier = locks.lock_one(Dossier, Dossier.fee_intent_id == intent.id)
        if dossier is not None and dossier.fee_paid_at is not None and dossier.status in (PROCESSED.value,
                                                                                          RETURNED.value):
            raise ValidationError(_l("The dossier paid by this fee has been processed: its fee is not refunded "
                                     "here."), field="amount")
