"""Refunds: money given back for a payment intent, by a bank transfer from the account that received it to the payer.

A refund is created ``pending`` (``POST /v1/refunds``, or staff settling an overpaid, late or duplicate item of the
reconciliation inbox). Its staff page shows a VietQR code to the payer's account (from the incoming transfer when
SePay, Casso or payOS named it, else entered by the officer and checked like any bank account) with the refund's own
reference code as the memo, so the officer pays it from a banking app in one scan. It becomes ``succeeded`` once:
when an outgoing transfer with that reference code appears (a gateway's money-out notification, a statement import:
``complete_by_transfer``, called by ``confirm_transfer``), or when staff confirm it by hand (``confirmation`` says
which). A pending refund can be canceled (``canceled``) or marked ``failed`` (the transfer bounced); either gives
its amount back to what can be refunded.

A refund never exceeds what the intent received (every transfer in: paid, short, over, late, twice) minus what is
already refunded (pending or succeeded): the intent row is locked while that is checked, so concurrent requests
cannot both pass. Services flush; the caller (API view, staff view) commits.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.errors import NotFound, ValidationError
from app import transactions
from app.extensions import db
from app.payments import vietqr
from app.payments.bank.notifications import find_reference_codes, new_reference_code
from app.payments.banks import get_bank
from app.payments.events import emit
from app.payments.intents import lock_intent
from app.clock import utcnow
from app.payments.intents import check_amount, check_metadata, merge_metadata, timestamp
from app.payments.models import BankTransfer, PaymentAccount, PaymentIntent, Refund
from app.payments.statuses import NOTE_REFUND_AMOUNT, NOTE_REFUND_DONE, NOTE_SETTLED_BY_REFUND, OPEN_REFUND_STATUSES
from app.payments.stripe_wire import new_id
from app.text import normalize

REFERENCE_PREFIX = "HT"  # "hoàn tiền": never mistaken for a payment's GL code
API_REASONS = ("duplicate", "fraudulent", "requested_by_customer")  # what Stripe's API accepts
OPEN_STATUSES = OPEN_REFUND_STATUSES


def received_amount(intent: PaymentIntent) -> int:
    """Every đồng a bank source reported coming in for the intent, whatever the inbox made of it (paid, short,
    over, late, twice). A confirmation by hand is a claim (payment_claims), never money that can be refunded; a
    "manual" transfer recorded before claims existed does not count either."""
    return int(db.session.scalar(  # PostgreSQL sums bigints as numeric
        select(func.coalesce(func.sum(BankTransfer.amount), 0))
        .where(BankTransfer.intent_id == intent.id, BankTransfer.status != "outgoing",
               BankTransfer.provider != "manual")
    ))


def refundable(intent: PaymentIntent) -> int:
    return max(received_amount(intent) - intent.amount_refunded, 0)


def _locked(intent: PaymentIntent) -> PaymentIntent:
    """The intent re-read under a row lock: two refunds of one intent are checked one after the other."""
    return lock_intent(intent_id=intent.id)


def payer_transfers(intent: PaymentIntent) -> list[BankTransfer]:
    """The transfers a bank source reported paying into the intent (never a claim), oldest first: the money that
    can be refunded, each to the account that sent it."""
    return list(db.session.scalars(
        select(BankTransfer).where(BankTransfer.intent_id == intent.id, BankTransfer.status != "outgoing",
                                   BankTransfer.provider != "manual").order_by(BankTransfer.id)))


CHARGE_PREFIX = "ch_"  # a bank transfer into an intent, as the API shows it: Stripe refunds a charge


def charge_id(transfer_id: int | None) -> str | None:
    return f"{CHARGE_PREFIX}{transfer_id}" if transfer_id is not None else None


def transfer_of_charge(charge: str) -> BankTransfer | None:
    """The incoming bank transfer a ``ch_…`` id names (the caller checks whose it is), or None."""
    digits = (charge or "").removeprefix(CHARGE_PREFIX)
    if not charge.startswith(CHARGE_PREFIX) or not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        return None
    return db.session.scalar(select(BankTransfer).where(
        BankTransfer.id == int(digits), BankTransfer.intent_id.is_not(None), BankTransfer.status != "outgoing",
        BankTransfer.provider != "manual"))


def serialize_charge(transfer: BankTransfer, intent: PaymentIntent) -> dict:
    """A transfer that paid an intent in the shape of Stripe's Charge: who paid, from which account, how much is
    refunded of it. Shown to the payee's own API key (its own incoming money), never on public pages."""
    refunded = refunded_of(transfer)
    return {
        "id": charge_id(transfer.id),
        "object": "charge",
        "amount": transfer.amount,
        "amount_captured": transfer.amount,
        "amount_refunded": refunded,
        "refunded": refunded >= transfer.amount,
        "captured": True,
        "paid": True,
        "status": "succeeded",
        "currency": "vnd",
        "created": timestamp(transfer.occurred_at or transfer.received_at),
        "payment_intent": intent.public_id,
        "billing_details": {"name": transfer.counter_account_name},
        "payment_method_details": {"type": "vietqr", "vietqr": {
            "bank_bin": transfer.counter_bank_bin, "account_number": transfer.counter_account_number,
            "account_name": transfer.counter_account_name, "reconciliation_status": transfer.status}},
    }


def refunded_of(transfer: BankTransfer) -> int:
    """What is refunded, or being refunded, of this one transfer."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0))
        .where(Refund.source_transfer_id == transfer.id, Refund.status.in_(OPEN_STATUSES))))


def _refunded_transfer(intent: PaymentIntent, transfer: BankTransfer | None) -> BankTransfer:
    """The money a refund gives back (docs/decisions.md, "Refund destination"): the transfer named, which must
    have paid this intent; unnamed, the one transfer that paid it. With several payers nobody guesses: the caller
    names the transfer (the API's ``charge``, the inbox item), having seen each payer's name and account."""
    payers = payer_transfers(intent)
    if transfer is not None:
        if transfer.id not in {t.id for t in payers}:
            raise ValidationError(_l("This transfer did not pay this payment."), field="charge")
        return transfer
    if len(payers) == 1:
        return payers[0]
    raise ValidationError(_l("Several transfers paid this payment: name the one to refund (its payer gets the "
                             "money back)."), field="charge")


def create_refund(intent: PaymentIntent, amount: int | None = None, *, reason: str | None = None,
                  metadata: dict | None = None, source: BankTransfer | None = None,
                  request_id: str | None = None, idempotency_key: str | None = None) -> Refund:
    """A pending refund of ``intent`` (of the active commune), flushed, of the transfer ``source`` (defaulting only
    when one transfer paid the intent) and addressed to the account that sent it. ``amount`` defaults to all that
    is left of that transfer (never more than the intent's bank money less its refunds)."""
    metadata = check_metadata(metadata)
    intent = _locked(intent)
    available = refundable(intent)
    if available <= 0:
        raise ValidationError(_l("Nothing is left to refund on this payment."), field="amount")
    payer = _refunded_transfer(intent, source)
    available = min(available, payer.amount - refunded_of(payer))
    if available <= 0:
        raise ValidationError(_l("Nothing is left to refund of this transfer."), field="amount")
    amount = available if amount is None else check_amount(amount)
    if amount > available:
        raise ValidationError(_l("The refund (%(amount)s đồng) is more than what is left to refund "
                                 "(%(available)s đồng).", amount=amount, available=available), field="amount")
    destination = {}
    if _valid_destination(payer.counter_bank_bin, payer.counter_account_number):
        destination = {"destination_bank_bin": payer.counter_bank_bin,
                       "destination_account_number": payer.counter_account_number,
                       "destination_account_name": payer.counter_account_name}
    # The savepoint below stays nested in the unit of work on SQLite too (transactions.savepoint).
    intent.amount_refunded += amount
    db.session.flush()
    for _attempt in range(5):
        try:
            with transactions.savepoint():
                refund = Refund(
                    tenant_id=intent.tenant_id, public_id=new_id("re"), account_id=intent.account_id,
                    intent_id=intent.id, amount=amount, currency="vnd", status="pending", reason=reason,
                    reference_code=new_reference_code(REFERENCE_PREFIX), metadata_=metadata,
                    source_transfer_id=payer.id, created_at=utcnow(),
                    **destination,
                )
                db.session.add(refund)
                db.session.flush()
            break
        except IntegrityError:  # a reference code collision: draw again
            continue
    else:  # pragma: no cover - 31^8 codes
        raise RuntimeError("could not allocate a unique refund reference code")
    _emit(refund, "refund.created", request_id=request_id, idempotency_key=idempotency_key)
    return refund


def _valid_destination(bank_bin: str | None, account_number: str | None) -> bool:
    if not bank_bin or not account_number or get_bank(bank_bin) is None:
        return False
    try:
        vietqr.encode(bank_bin, account_number)
    except vietqr.VietQRError:
        return False
    return True


def _emit(refund: Refund, type_: str, **request_info) -> None:
    emit(refund.intent, type_, data_object=serialize(refund), **request_info)


def get_refund(public_id: str, *, for_update: bool = False) -> Refund:
    """A refund of the active commune; another commune's is not found."""
    query = select(Refund).where(Refund.public_id == (public_id or "")[:40])
    if for_update:
        query = query.with_for_update(of=Refund).execution_options(populate_existing=True)
    refund = db.session.scalar(query)
    if refund is None:
        raise NotFound(_l("No such refund."))
    return refund


def recent_refunds(limit: int = 50) -> list[Refund]:
    """The active commune's refunds, those still to send first, then the newest."""
    return list(db.session.scalars(
        select(Refund).order_by((Refund.status == "pending").desc(), Refund.id.desc()).limit(limit)
    ))


def intent_refunds(intent: PaymentIntent) -> list[Refund]:
    return list(db.session.scalars(select(Refund).where(Refund.intent_id == intent.id).order_by(Refund.id)))


def _pending(refund: Refund) -> None:
    if refund.status != "pending":
        raise ValidationError(_l("This refund is no longer pending."))  # not the intent's state: no "status" field


def set_destination(refund: Refund, bank_bin: str, account_number: str, holder_name: str) -> Refund:
    """The payer's account, entered by staff when no source named it; checked like any payee account."""
    _pending(refund)
    account_number = normalize(account_number or "").replace(" ", "")
    holder_name = normalize(holder_name or "")
    if get_bank(bank_bin) is None:
        raise ValidationError(_l("Unknown bank."), field="bank_bin")
    try:
        vietqr.encode(bank_bin, account_number)
    except vietqr.VietQRError as err:
        raise ValidationError(_l("The account number is not valid: %(reason)s", reason=err.reason),
                              field="account_number") from None
    if len(holder_name) > 120:
        raise ValidationError(_l("The account holder's name is too long."), field="holder_name")
    refund.destination_bank_bin = bank_bin
    refund.destination_account_number = account_number
    refund.destination_account_name = holder_name or None
    db.session.flush()
    return refund


def qr_payload(refund: Refund) -> str | None:
    """The VietQR code the officer scans: to the payer's account, the amount, the refund's reference as memo."""
    if refund.status != "pending" or not refund.destination_account_number:
        return None
    return vietqr.encode(refund.destination_bank_bin, refund.destination_account_number, amount=refund.amount,
                         memo=refund.reference_code)


def _succeed(refund: Refund, confirmation: str, *, actor=None, transfer: BankTransfer | None = None) -> None:
    refund.status = "succeeded"
    refund.confirmation = confirmation
    refund.succeeded_at = utcnow()
    refund.confirmed_by_id = actor.id if actor is not None else None
    refund.outgoing_transfer_id = transfer.id if transfer is not None else None
    _emit(refund, "refund.updated")


def confirm_by_hand(refund: Refund, actor) -> Refund:
    """Staff saw the money leave (in the banking app, on paper): the refund is completed, recorded as by hand."""
    refund = get_refund(refund.public_id, for_update=True)
    _pending(refund)
    _succeed(refund, "manual", actor=actor)
    db.session.flush()
    return refund


def _end(refund: Refund, status: str, failure_reason: str | None = None) -> Refund:
    refund = get_refund(refund.public_id, for_update=True)
    _pending(refund)
    intent = _locked(refund.intent)
    intent.amount_refunded -= refund.amount
    refund.status = status
    refund.failure_reason = failure_reason
    _emit(refund, "refund.updated")
    db.session.flush()
    return refund


def cancel_refund(refund: Refund) -> Refund:
    """A pending refund withdrawn: its amount can be refunded again."""
    return _end(refund, "canceled")


def fail_refund(refund: Refund) -> Refund:
    """The transfer to the payer did not go through (closed account, bounced): its amount can be refunded again."""
    return _end(refund, "failed", "declined")


def update_metadata(refund: Refund, metadata: dict) -> Refund:
    refund.metadata_ = merge_metadata(refund.metadata_, metadata)
    _emit(refund, "refund.updated")
    db.session.flush()
    return refund


def complete_by_transfer(transfer: BankTransfer, accounts: list[PaymentAccount] | None) -> Refund | None:
    """An outgoing transfer (``confirm_transfer``, across tenants) that names a pending refund by its reference
    code, from the account that owes it, for its amount, completes it. Once: a second transfer naming a completed
    refund only gets a note."""
    codes = find_reference_codes(transfer.content or "", REFERENCE_PREFIX)
    if not codes:
        return None
    query = select(Refund).where(Refund.reference_code.in_(codes))
    if accounts is not None:
        query = query.where(Refund.account_id.in_([account.id for account in accounts]))
    refund = db.session.scalar(query.order_by(Refund.id).limit(1)
                               .with_for_update(of=Refund).execution_options(populate_existing=True))
    if refund is None:
        return None
    transfer.tenant_id = refund.tenant_id
    transfer.intent_id = refund.intent_id
    if refund.status != "pending":
        transfer.note = NOTE_REFUND_DONE
        return None
    if transfer.amount != refund.amount:
        transfer.note = NOTE_REFUND_AMOUNT
        return None
    _succeed(refund, "transfer", transfer=transfer)
    return refund


def serialize(refund: Refund) -> dict:
    """Stripe's Refund object; the bank details of the transfer back are in ``destination_details``."""
    created = refund.created_at or utcnow()
    return {
        "id": refund.public_id,
        "object": "refund",
        "amount": refund.amount,
        "balance_transaction": None,
        "charge": charge_id(refund.source_transfer_id),
        "created": timestamp(created),
        "currency": refund.currency,
        "destination_details": {
            "type": "vietqr",
            "vietqr": {
                "reference": refund.reference_code,
                "reference_status": "available" if refund.status == "succeeded" else "pending",
                "bank_bin": refund.destination_bank_bin,
                "account_number": refund.destination_account_number,
                "account_name": refund.destination_account_name,
                "confirmation": refund.confirmation,
            },
        },
        "failure_reason": refund.failure_reason,
        "metadata": dict(refund.metadata_ or {}),
        "payment_intent": refund.intent.public_id,
        "reason": refund.reason,
        "receipt_number": None,
        "reference": refund.reference_code,
        "source_transfer_reversal": None,
        "status": refund.status,
        "transfer_reversal": None,
    }


SETTLE_REASONS = {"overpaid": "overpaid", "late": "late_payment", "duplicate": "duplicate"}


def settle_by_refund(transfer_id: int, tenant_id: int | None, actor) -> Refund:
    """An overpaid, late or duplicate item of the inbox (``tenant_id``'s, None: the district's) settled by giving the
    money back: a pending refund of the excess (overpaid) or of the whole transfer (late, paid twice), toward the
    account that sent it. The item leaves the inbox with that decision; the refund's page does the rest."""
    from app.payments.bank.reconciliation import get_inbox_transfer
    from tenants.scoping import all_tenants, tenant_context

    with all_tenants():
        transfer = get_inbox_transfer(transfer_id, tenant_id, for_update=True)
        if transfer.status not in SETTLE_REASONS or transfer.intent_id is None:
            raise ValidationError(_l("Only overpaid, late or duplicate transfers can be refunded."), field="transfer")
        intent = db.session.get(PaymentIntent, transfer.intent_id)
    with tenant_context(transfer.tenant_id):
        intent = _locked(intent)
        wanted = intent.amount_received - intent.amount if transfer.status == "overpaid" else transfer.amount
        amount = min(wanted, refundable(intent))
        if amount <= 0:
            raise ValidationError(_l("Nothing is left to refund on this payment."), field="transfer")
        refund = create_refund(intent, amount, reason=SETTLE_REASONS[transfer.status], source=transfer)
        transfer.status = "resolved"
        transfer.note = NOTE_SETTLED_BY_REFUND
        transfer.resolved_by_id = actor.id
        transfer.resolved_at = utcnow()
        db.session.flush()
    return refund
