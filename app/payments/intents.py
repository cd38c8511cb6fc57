"""Payment intents: creation (with the VietQR payload), updates, cancellation, expiry, and the Stripe wire shape.

Functions here run inside the intent's tenant (request resolution, API key or explicit tenant_context); the
scoping mechanism filters every query, so none of them repeats a tenant filter.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from app import locks, transactions
from app.errors import NotFound, ValidationError
from app.clock import as_utc, utcnow
from app.extensions import db
from app.payments import qr, vietqr
from app.payments.banks import get_bank
from app.payments.events import emit, emit_each
from app.payments.models import PaymentAccount, PaymentIntent
from app.payments.statuses import TERMINAL_STATUSES
from app.payments.bank.notifications import new_reference_code
from app.payments.stripe_wire import new_id
from app.payments.urls import public_url

MAX_AMOUNT = 10**13 - 1
MAX_METADATA_KEYS = 50



def check_amount(amount) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationError(_l("The amount must be a whole number of đồng."), field="amount")
    if amount <= 0:
        raise ValidationError(_l("The amount must be greater than zero."), field="amount")
    if amount > MAX_AMOUNT:
        raise ValidationError(_l("The amount is too large (13 digits at most)."), field="amount")
    return amount


def check_metadata(metadata: dict | None) -> dict:
    metadata = dict(metadata or {})
    if len(metadata) > MAX_METADATA_KEYS:
        raise ValidationError(_l("Metadata holds at most 50 keys."), field="metadata")
    for key, value in metadata.items():
        if not isinstance(key, str) or not key or len(key) > 40:
            raise ValidationError(_l("Metadata keys have 1 to 40 characters."), field="metadata")
        if not isinstance(value, str) or len(value) > 500:
            raise ValidationError(_l("Metadata values are text of 500 characters at most."), field="metadata")
    return metadata


def merge_metadata(existing: dict | None, changes: dict) -> dict:
    """Stripe's update rule for ``metadata``: given keys are set, an empty value unsets its key; then checked."""
    merged = dict(existing or {})
    for key, value in changes.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return check_metadata(merged)


def _whole_second_up(moment: datetime) -> datetime:
    """A deadline on a whole second, rounded up. The API and the payer's page show whole seconds; a stored
    fraction would make them call the payment expired up to a second before the server does."""
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment


def _memo(reference_code: str) -> str:
    """The reference code alone: first in the memo, short enough for every gateway's cap."""
    return reference_code


def create_intent(
    account: PaymentAccount,
    amount: int,
    *,
    description: str | None = None,
    metadata: dict | None = None,
    purpose: str = "api",
    ttl: timedelta | None = None,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> PaymentIntent:
    """A new intent of ``account``, flushed, not committed: the caller's transaction commits it together with
    whatever it pays for (a dossier's fee request, an order). ``purpose`` names that kind of record; domains hear
    about their intents through ``app.payments.reactions``."""
    check_amount(amount)
    metadata = check_metadata(metadata)
    if not account.active:
        raise ValidationError(_l("This payment account is not active."), field="account")
    if description is not None and len(description) > 500:
        raise ValidationError(_l("The description is too long (500 characters at most)."), field="description")
    ttl = ttl or timedelta(minutes=current_app.config["PAYMENT_INTENT_TTL_MINUTES"])
    prefix = current_app.config["PAYMENT_REFERENCE_PREFIX"]
    # A reference code (31^8 of them) drawn twice, or a public id, runs the unit of work again with fresh draws
    # (transactions.run_again_on_duplicate): no savepoint round trips on every intent for it (issue #17).
    reference = new_reference_code(prefix)
    now = utcnow()
    intent = PaymentIntent(
        tenant_id=account.tenant_id,
        public_id=new_id("pi"),
        account_id=account.id,
        amount=amount,
        amount_received=0,
        amount_refunded=0,
        currency="vnd",
        status="requires_action",
        reference_code=reference,
        description=description,
        purpose=purpose,
        metadata_=metadata,
        qr_payload=vietqr.encode(account.bank_bin, account.account_number, amount=amount, memo=_memo(reference)),
        created_at=now,
        expires_at=_whole_second_up(now + ttl),
    )
    db.session.add(intent)
    with transactions.run_again_on_duplicate():
        db.session.flush()
    # The account a lazy load would read back (same ids, so the same object of the identity map): known already,
    # so serialising the new intent does not query for it (issue #17).
    set_committed_value(intent, "account", account)
    emit_each(intent, ("payment_intent.created", "payment_intent.requires_action"), request_id=request_id,
              idempotency_key=idempotency_key)
    return intent


def get_intent(public_id: str, *, for_update: bool = False) -> PaymentIntent:
    query = select(PaymentIntent).where(PaymentIntent.public_id == public_id)
    if for_update:
        query = query.with_for_update(of=PaymentIntent)
    intent = db.session.scalar(query)
    if intent is None:
        raise NotFound(_l("No such payment intent: %(id)s", id=public_id), field="intent")
    return intent


def get_intent_by_reference(reference_code: str) -> PaymentIntent | None:
    return db.session.scalar(select(PaymentIntent).where(PaymentIntent.reference_code == reference_code))


def locked_intents():
    """SELECT of intents, row-locked until commit and re-read (``populate_existing``): an intent already in the
    session must not keep an amount or status read before the lock was granted. Every lock on an intent is this."""
    return select(PaymentIntent).with_for_update(of=PaymentIntent).execution_options(populate_existing=True)


def lock_intent(*, intent_id: int | None = None, public_id: str | None = None) -> PaymentIntent | None:
    """The intent with this id or public id, locked and re-read: the named lock helper of payment intents, in the
    one lock order (app/locks.py: the intent before any domain row, so a domain path locks the intent first)."""
    if intent_id is not None:
        return locks.lock_one(PaymentIntent, PaymentIntent.id == intent_id)
    return locks.lock_one(PaymentIntent, PaymentIntent.public_id == public_id)


def expire_if_due(intent: PaymentIntent) -> PaymentIntent:
    """Expiry on read, under the row lock: two readers at the deadline emit one event, and a bank confirmation that
    holds the lock (reconciliation) is never overwritten by a stale read. Returns the intent as it now is."""
    if not is_expired(intent):
        return intent
    intent = lock_intent(intent_id=intent.id)
    apply_expiry(intent)
    return intent


def is_expired(intent: PaymentIntent, now: datetime | None = None) -> bool:
    return intent.status not in TERMINAL_STATUSES and as_utc(intent.expires_at) <= (now or utcnow())


def apply_expiry(intent: PaymentIntent, now: datetime | None = None) -> bool:
    """Expiry applied on read: an intent past its expiry is canceled (reason "abandoned", as Stripe says)."""
    if not is_expired(intent, now):
        return False
    _cancel(intent, "abandoned")
    db.session.flush()
    return True


def _cancel(intent: PaymentIntent, reason: str, request_id: str | None = None, idempotency_key: str | None = None):
    intent.status = "canceled"
    intent.cancellation_reason = reason
    intent.canceled_at = utcnow()
    emit(intent, "payment_intent.canceled", request_id=request_id, idempotency_key=idempotency_key)


def cancel_intent(intent: PaymentIntent, reason: str | None = None, **request_info) -> PaymentIntent:
    apply_expiry(intent)
    if intent.status in TERMINAL_STATUSES:
        raise ValidationError(
            _l("You cannot cancel this PaymentIntent because it has a status of %(status)s.", status=intent.status),
            field="status",
        )
    if intent.amount_received:
        raise ValidationError(_l("Money has already arrived for this payment; it cannot be canceled."),
                              field="status")
    _cancel(intent, reason or "requested_by_customer", **request_info)
    db.session.flush()  # the caller's unit of work commits, with whatever else it changed
    return intent


def update_intent(intent: PaymentIntent, *, amount: int | None = None, description: str | None = None,
                  metadata: dict | None = None) -> PaymentIntent:
    apply_expiry(intent)
    if intent.status in TERMINAL_STATUSES:
        raise ValidationError(
            _l("You cannot update this PaymentIntent because it has a status of %(status)s.", status=intent.status),
            field="status",
        )
    if amount is not None and amount != intent.amount:
        check_amount(amount)
        if intent.amount_received:
            raise ValidationError(_l("Money has already arrived; the amount can no longer change."), field="amount")
        account = intent.account
        intent.amount = amount
        intent.qr_payload = vietqr.encode(account.bank_bin, account.account_number, amount=amount,
                                          memo=_memo(intent.reference_code))
    if description is not None:
        intent.description = description or None
    if metadata is not None:
        intent.metadata_ = merge_metadata(intent.metadata_, metadata)
    db.session.flush()
    return intent


def expire_due(now: datetime | None = None, *, account_id: int | None = None) -> int:
    """Cancel every intent past its expiry, across all communes (the `flask payments expire` job), or only those of
    one payment account in the active commune (``account_id``: the API's list, expiry applied on read).

    Rows are locked and re-read, and all are canceled in the caller's one transaction: an intent being paid right now is skipped (the
    payment holds its lock), and one paid after this locked it is handled by confirm_transfer as a late payment;
    neither is ever lost, and no row is written from a stale read.
    """
    from contextlib import nullcontext

    from tenants.scoping import all_tenants

    now = now or utcnow()
    count = 0
    query = select(PaymentIntent).where(PaymentIntent.status.not_in(TERMINAL_STATUSES), PaymentIntent.expires_at <= now)
    if account_id is not None:
        query = query.where(PaymentIntent.account_id == account_id)
    with all_tenants() if account_id is None else nullcontext():
        due = db.session.scalars(
            query
            .order_by(PaymentIntent.id)
            .with_for_update(of=PaymentIntent, skip_locked=True)
            .execution_options(populate_existing=True)
        ).all()
        for intent in due:
            _cancel(intent, "abandoned")
            count += 1
        db.session.flush()
    return count


def timestamp(value: datetime | None) -> int | None:
    """Unix seconds, as the wire shapes (intents, refunds, events) give times."""
    return int(as_utc(value).timestamp()) if value else None


def serialize(intent: PaymentIntent) -> dict:
    """The intent in Stripe's wire shape, with the VietQR code as next_action (like PromptPay/PayNow)."""
    account = intent.account
    bank = get_bank(account.bank_bin)
    next_action = None
    if intent.status == "requires_action":
        next_action = {
            "type": "vietqr_display_qr_code",
            "vietqr_display_qr_code": {
                "data": intent.qr_payload,
                # ?v= makes the image URL content-addressed, so it may be cached for a year (see payments/views_public.py)
                "image_url_png": public_url("payments.qr_image", public_id=intent.public_id, kind="png",
                                            v=qr.image_version(intent.qr_payload, "png")),
                "image_url_svg": public_url("payments.qr_image", public_id=intent.public_id, kind="svg",
                                            v=qr.image_version(intent.qr_payload, "svg")),
                "hosted_instructions_url": public_url("payments.hosted", public_id=intent.public_id),
                "expires_at": timestamp(intent.expires_at),
                "reference": intent.reference_code,
                "bank_bin": account.bank_bin,
                "bank_name": bank.short_name if bank else None,
                "account_number": account.account_number,
                "account_name": account.holder_name,
            },
        }
    return {
        "id": intent.public_id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_received": intent.amount_received,
        "amount_refunded": intent.amount_refunded or 0,  # refunds pending or succeeded (/v1/refunds)
        "amount_capturable": 0,
        "canceled_at": timestamp(intent.canceled_at),
        "cancellation_reason": intent.cancellation_reason,
        "capture_method": "automatic",
        "client_secret": f"{intent.public_id}_secret_{intent.reference_code}",
        "confirmation_method": "automatic",
        "created": timestamp(intent.created_at) or timestamp(utcnow()),
        "currency": intent.currency,
        "description": intent.description,
        "last_payment_error": None,
        "livemode": False,
        "metadata": dict(intent.metadata_ or {}),
        "next_action": next_action,
        "payment_method": None,
        "payment_method_types": ["vietqr"],
        "status": intent.status,
        "reference": intent.reference_code,
        "expires_at": timestamp(intent.expires_at),
        "reconciliation_flag": intent.flag,
    }
