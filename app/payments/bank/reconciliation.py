"""Money in. Every way of learning that money arrived (SePay, Casso, payOS, a statement import, a person) ends in
``confirm_transfer``: the transfer is recorded once (per provider transaction id, and per bank reference whatever the source), matched to an intent by the
reference code in its text, the amount checked, and whatever needs a person waits in the reconciliation inbox.

It runs across tenants (a notification does not say which commune it is for) and locks the intent row, so two
deliveries of one notification, or two transfers for one intent, cannot both count. Like every payments function
it flushes only: the caller's unit of work (the receiver's request, a statement row, a staff page) commits.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from app.errors import NotFound, ValidationError
from app.text import normalize
from app import transactions
from app.extensions import db
from app.payments.events import emit
from app.clock import as_utc, utcnow
from app.payments.intents import MAX_AMOUNT, _cancel, is_expired, lock_intent, locked_intents
from app.payments.models import BankTransfer, PaymentAccount, PaymentClaim, PaymentIntent
from app.payments.statuses import (
    INBOX_STATUSES,
    NOTE_AMBIGUOUS_ACCOUNT,
    NOTE_LATE_ACCEPTED,
    NOTE_LATE_ACCEPTED_OVERPAID,
    NOTE_OTHER_ACCOUNT,
)
from app.payments.bank.notifications import BankTransaction, find_reference_codes
from tenants.scoping import all_tenants


@dataclass(frozen=True)
class ConfirmOutcome:
    transfer: BankTransfer
    intent: PaymentIntent | None
    duplicate: bool = False  # this provider transaction was recorded before: nothing changed


# A bank's clock and ours may differ a little: a transfer the bank dates this much after the deadline is on time.
CLOCK_TOLERANCE = timedelta(minutes=2)

def _receiving_accounts(txn: BankTransaction) -> list[PaymentAccount] | None:
    """The payment accounts (of any commune) the transfer may have gone into: those with its number, at its bank
    when the source names the bank, within ``txn.account_ids`` when given. None when the source names no account
    (then the reference code alone decides, which only the platform's own secret can authenticate)."""
    number = _clean(txn.account_number).strip()
    if txn.account_ids is None and not number:
        return None
    if txn.accounts_read is not None and number in txn.accounts_read[0]:  # read by the receiver: not again
        return sorted((account for account in txn.accounts_read[1] if account.account_number == number
                       and (not txn.bank_bin or account.bank_bin == txn.bank_bin)
                       and (txn.account_ids is None or account.id in txn.account_ids)), key=lambda a: a.id)
    query = select(PaymentAccount).order_by(PaymentAccount.id)
    if txn.account_ids is not None:
        query = query.where(PaymentAccount.id.in_(txn.account_ids))
    if number:
        query = query.where(PaymentAccount.account_number == number)
    if txn.bank_bin:
        query = query.where(PaymentAccount.bank_bin == txn.bank_bin)
    return list(db.session.scalars(query))


def _receiving_bin(txn: BankTransaction, accounts: list[PaymentAccount] | None) -> str | None:
    """The receiving bank: as the source names it, else the bank of the one account the number designates."""
    if txn.bank_bin:
        return txn.bank_bin
    bins = {account.bank_bin for account in accounts or []}
    return bins.pop() if len(bins) == 1 else None


def _existing(txn: BankTransaction, bank_bin: str | None) -> BankTransfer | None:
    """The transfer already recorded for this transaction: the same provider transaction into this account, or
    (whatever the source) the same bank reference into this account. One query for both (issue #17); a row
    matching the provider transaction comes first, as when they were two queries asked in that order."""
    account = func.coalesce(BankTransfer.account_number, "") == (_clean(txn.account_number).strip() or "")
    bank = func.coalesce(BankTransfer.bank_bin, "") == (bank_bin or "")
    same_txn = and_(BankTransfer.provider == txn.provider, BankTransfer.provider_txn_id == txn.provider_txn_id)
    reference = _reference(txn)
    if not reference:
        return db.session.scalar(select(BankTransfer).where(same_txn, account, bank))
    found = db.session.scalars(select(BankTransfer).where(or_(same_txn, BankTransfer.bank_reference == reference),
                                                          account, bank)).all()
    return next((t for t in found if t.provider == txn.provider and t.provider_txn_id == txn.provider_txn_id),
                found[0] if found else None)


def _reference(txn: BankTransaction) -> str | None:
    return _clean(txn.reference).strip()[:100] or None


def _locked_intent(*, public_id: str | None = None, codes: list[str] | None = None,
                   accounts: list[PaymentAccount] | None = None) -> PaymentIntent | None:
    """The intent, row-locked until commit and re-read from the database.

    ``populate_existing``: an intent already in the session (confirm_by_hand loads it first) must not keep the
    amount it had before the lock was granted, or a concurrent transfer's money would be overwritten.
    Among several candidate codes, the first naming an intent of one of ``accounts`` wins, else the first found.
    """
    query = locked_intents()
    if public_id:
        return lock_intent(public_id=public_id)
    if not codes:
        return None
    found = {i.reference_code: i for i in db.session.scalars(query.where(PaymentIntent.reference_code.in_(codes)))}
    ordered = [found[c] for c in codes if c in found]
    if accounts:
        ids = {account.id for account in accounts}
        ordered = [i for i in ordered if i.account_id in ids] + [i for i in ordered if i.account_id not in ids]
    return ordered[0] if ordered else None


def _tenant_of(accounts: list[PaymentAccount] | None) -> int | None:
    tenants = {account.tenant_id for account in accounts or []}
    return tenants.pop() if len(tenants) == 1 else None


def _clean(text: str | None) -> str:
    """PostgreSQL text cannot hold NUL characters; nothing legitimate in a transfer has one."""
    return (text or "").replace("\x00", "")


def check_transaction(txn: BankTransaction) -> None:
    """What the columns cannot hold is refused up front (a ValidationError, never a database error): SQLite would
    store it silently, PostgreSQL would fail mid-transaction."""
    txn_id = _clean(txn.provider_txn_id).strip()
    if not txn_id or len(txn_id) > 100 or txn_id != txn.provider_txn_id:
        raise ValidationError(_l("The bank transaction id must have 1 to 100 characters."), field="provider_txn_id")
    if isinstance(txn.amount, bool) or not isinstance(txn.amount, int) or txn.amount <= 0:
        raise ValidationError(_l("The amount must be greater than zero."), field="amount")
    if txn.amount > MAX_AMOUNT:
        raise ValidationError(_l("The amount is too large (13 digits at most)."), field="amount")
    if txn.account_number and len(_clean(txn.account_number)) > 40:
        raise ValidationError(_l("The account number is too long."), field="account_number")


def confirm_transfer(txn: BankTransaction, *, intent_public_id: str | None = None) -> ConfirmOutcome:
    """Record ``txn`` once and apply it to its payment intent (money in) or its refund (money out).

    Idempotent per (provider, receiving account, provider_txn_id) and per (receiving account, bank reference):
    the same transfer reported again, by the same source or another one, changes nothing. A payment account is its
    bank and its number: the reference code applies only to an intent of an account the transfer went into."""
    check_transaction(txn)
    with all_tenants():
        accounts = _receiving_accounts(txn)
        bank_bin = _receiving_bin(txn, accounts)
        existing = _existing(txn, bank_bin)
        if existing is not None:
            return ConfirmOutcome(existing, None, duplicate=True)
        prefix = current_app.config["PAYMENT_REFERENCE_PREFIX"]
        codes = None if intent_public_id or txn.direction != "in" else find_reference_codes(txn.content or "", prefix)
        # Known before the INSERT when no intent can be named (money out, or no reference code in the text): the
        # transfer is written whole at once, not inserted and then updated (issue #17).
        settled_now = txn.direction != "in" or (not intent_public_id and not codes)
        transfer = BankTransfer(
            provider=txn.provider, provider_txn_id=txn.provider_txn_id, amount=txn.amount,
            content=_clean(txn.content)[:1000], account_number=_clean(txn.account_number).strip() or None,
            bank=_clean(txn.bank)[:100] or None, bank_bin=bank_bin, bank_reference=_reference(txn),
            counter_bank_bin=txn.counter_bank_bin, counter_account_number=_clean(txn.counter_account_number) or None,
            counter_account_name=_clean(txn.counter_account_name)[:120] or None,
            occurred_at=txn.occurred_at, raw=txn.raw or {}, received_at=utcnow(),
            status="outgoing" if txn.direction != "in" else "unmatched",
            tenant_id=_tenant_of(accounts) if settled_now else None,
        )
        db.session.add(transfer)
        # A twin delivered at the same moment passed the check above too: on PostgreSQL this INSERT waits for it to
        # commit, then the unit of work runs again and answers "already recorded" from the check (no savepoint on
        # every notification for it, issue #17).
        with transactions.run_again_on_duplicate():
            db.session.flush()

        if txn.direction != "in":
            from app.payments.refunds import complete_by_transfer

            complete_by_transfer(transfer, accounts)
            db.session.flush()
            return ConfirmOutcome(transfer, None)

        intent = _locked_intent(public_id=intent_public_id, codes=codes, accounts=accounts)
        if intent is not None and accounts is not None and intent.account_id not in {a.id for a in accounts}:
            transfer.note = NOTE_OTHER_ACCOUNT
            intent = None
        elif intent is not None and len({(a.bank_bin, a.account_number) for a in accounts or []}) > 1:
            transfer.note = NOTE_AMBIGUOUS_ACCOUNT  # the number is at several banks and the source names none
            intent = None
        if intent is None:
            transfer.tenant_id = _tenant_of(accounts)
            db.session.flush()
            return ConfirmOutcome(transfer, None)

        transfer.tenant_id = intent.tenant_id
        transfer.intent_id = intent.id
        _apply(intent, transfer)
        db.session.flush()
        return ConfirmOutcome(transfer, intent)


def bank_time(transfer: BankTransfer) -> datetime:
    """When the money moved: the bank's time when the source gives it, less a small tolerance for the difference
    between its clock and ours, and never later than when the transfer reached us."""
    received = as_utc(transfer.received_at)
    if transfer.occurred_at is None:
        return received
    return min(as_utc(transfer.occurred_at) - CLOCK_TOLERANCE, received)


def _apply(intent: PaymentIntent, transfer: BankTransfer) -> None:
    paid_at = bank_time(transfer)  # lateness by the bank's time: a statement imported later stays on time
    if intent.status == "requires_action" and is_expired(intent, paid_at):
        _cancel(intent, "abandoned")  # it expired before the money came: handled as a late payment below
    elif (intent.status == "canceled" and intent.cancellation_reason == "abandoned"
          and paid_at < as_utc(intent.expires_at)):
        _reopen(intent)  # our clock expired it (a read, the job), but the bank moved the money in time
    if intent.status == "canceled":
        transfer.status = "late"
        intent.flag = "late"
        emit(intent, "payment_intent.late_payment")
        return
    if intent.status == "succeeded" and open_claims(intent):
        _settle_claims(intent, transfer)  # the bank's own report of money a person said had arrived
        return
    if intent.status == "succeeded":
        transfer.status = "duplicate"  # paid twice: the second transfer waits for a refund decision
        intent.flag = "overpaid"
        emit(intent, "payment_intent.overpaid")
        return
    intent.amount_received += transfer.amount
    if intent.amount_received < intent.amount:
        transfer.status = "short"
        intent.flag = "short"
        emit(intent, "payment_intent.partially_funded")
        return
    _succeed(intent)
    overpaid = intent.amount_received > intent.amount
    transfer.status = "overpaid" if overpaid else "matched"
    intent.flag = "overpaid" if overpaid else None
    if overpaid:
        emit(intent, "payment_intent.overpaid")


def _reopen(intent: PaymentIntent) -> None:
    intent.status = "requires_action"
    intent.canceled_at = None
    intent.cancellation_reason = None


def _succeed(intent: PaymentIntent) -> None:
    intent.status = "succeeded"
    intent.succeeded_at = utcnow()
    # Earlier short transfers of this intent are settled now that the total is reached.
    for earlier in db.session.scalars(
        select(BankTransfer).where(BankTransfer.intent_id == intent.id, BankTransfer.status == "short")
    ):
        earlier.status = "matched"
    emit(intent, "payment_intent.succeeded")


def open_claims(intent: PaymentIntent) -> list[PaymentClaim]:
    """The intent's confirmations by hand the bank has not yet confirmed (read under the intent's lock)."""
    return list(db.session.scalars(select(PaymentClaim).where(
        PaymentClaim.tenant_id == intent.tenant_id, PaymentClaim.intent_id == intent.id,
        PaymentClaim.status == "open").order_by(PaymentClaim.id)))


def _settle_claims(intent: PaymentIntent, transfer: BankTransfer) -> None:
    """A bank transfer for an intent paid on a person's word: the money is counted now (once: the claim never was),
    and once the bank has moved the amount due the claims are settled. Nothing is flagged overpaid unless the bank
    itself moved more than was due; the intent succeeded already, so no second ``succeeded`` event."""
    intent.amount_received += transfer.amount
    if intent.amount_received < intent.amount:
        transfer.status = "short"  # the claim stays open: it shows in the inbox if the rest never comes
        return
    now = utcnow()
    for claim in open_claims(intent):
        claim.status, claim.settled_transfer_id, claim.settled_at = "settled", transfer.id, now
    for earlier in db.session.scalars(
        select(BankTransfer).where(BankTransfer.intent_id == intent.id, BankTransfer.status == "short")
    ):
        earlier.status = "matched"
    overpaid = intent.amount_received > intent.amount
    transfer.status = "overpaid" if overpaid else "matched"
    intent.flag = "overpaid" if overpaid else None
    if overpaid:
        emit(intent, "payment_intent.overpaid")


def confirm_by_hand(intent_public_id: str, amount: int, actor, note: str | None = None) -> PaymentClaim:
    """A person saw the money in the bank account and says so: a claim (who, when, why), not a transfer. The intent
    succeeds (its domain hears it as from a bank) but ``amount_received`` counts only what a bank source reports,
    so nothing can be refunded on a claim; the bank's report of the transfer settles it (``_settle_claims``).

    The intent is locked first (app/locks.py), so this and a bank notification for it run one after the other:
    whichever comes second sees the other's result. Flushes only."""
    found = db.session.scalar(select(PaymentIntent.id).where(PaymentIntent.public_id == intent_public_id))
    if found is None:  # scoped: another commune's intent does not exist here
        raise NotFound(_l("No such payment."))
    return record_claim(lock_intent(intent_id=found), amount, actor, note)


def record_claim(intent: PaymentIntent, amount: int, actor, note: str | None = None) -> PaymentClaim:
    """``confirm_by_hand`` for an intent its caller has already locked (a domain that locked the intent before its
    own row, app/locks.py). Flushes only."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationError(_l("The amount must be greater than zero."), field="amount")
    if amount > MAX_AMOUNT:
        raise ValidationError(_l("The amount is too large (13 digits at most)."), field="amount")
    if intent.status == "succeeded":
        raise ValidationError(_l("This payment is already paid."), field="amount")
    if intent.status == "canceled" or is_expired(intent):
        raise ValidationError(_l("This payment has expired or was canceled; a transfer that still arrives waits "
                                 "in the inbox."), field="amount")
    due = intent.amount - intent.amount_received
    if amount < due:
        raise ValidationError(_l("A confirmation by hand covers the whole amount still due (%(due)s đồng).",
                                 due=due), field="amount")
    claim = PaymentClaim(tenant_id=intent.tenant_id, intent_id=intent.id, amount=amount, status="open",
                         claimed_by_id=actor.id, claimed_by=actor.sign_in_name, claimed_at=utcnow(),
                         note=normalize(note)[:1000])
    db.session.add(claim)
    db.session.flush()
    intent.flag = None
    _succeed(intent)
    db.session.flush()
    return claim


def overdue_claims(tenant_id: int | None, now: datetime | None = None) -> list[PaymentClaim]:
    """Claims the bank has not confirmed within ``PAYMENT_CLAIM_DAYS`` days: shown in the inbox, a person looks."""
    days = int(current_app.config.get("PAYMENT_CLAIM_DAYS", 3))
    limit = (now or utcnow()) - timedelta(days=days)
    query = (select(PaymentClaim).where(PaymentClaim.status == "open", PaymentClaim.claimed_at <= limit)
             .order_by(PaymentClaim.claimed_at, PaymentClaim.id))
    if tenant_id is not None:
        query = query.where(PaymentClaim.tenant_id == tenant_id)
    with all_tenants():
        return list(db.session.scalars(query))


def of_accounts(account_ids: Collection[int]):
    """Transfers into one of these accounts (by bank and number), or applied to a payment into one: a payee's own,
    the payee's to decide about (docs/decisions.md "Seams review": the money is in the payee's account)."""
    into_account = select(PaymentAccount.id).where(
        PaymentAccount.id.in_(account_ids), PaymentAccount.tenant_id == BankTransfer.tenant_id,
        PaymentAccount.account_number == BankTransfer.account_number,
        or_(BankTransfer.bank_bin.is_(None), PaymentAccount.bank_bin == BankTransfer.bank_bin),
    ).exists()
    for_payment = BankTransfer.intent_id.in_(
        select(PaymentIntent.id).where(PaymentIntent.account_id.in_(account_ids)))
    return or_(into_account, for_payment)


def inbox_query(tenant_id: int | None, account_ids: Collection[int] | None = None):
    """Transfers waiting for a person: one commune's, or (district, tenant_id None) the unattributed ones too;
    with ``account_ids``, only those into these accounts of the commune (a payee's: ``of_accounts``)."""
    query = select(BankTransfer).where(BankTransfer.status.in_(INBOX_STATUSES)).order_by(BankTransfer.id.desc())
    if tenant_id is not None:
        query = query.where(BankTransfer.tenant_id == tenant_id)
    if account_ids is not None:
        query = query.where(of_accounts(account_ids))
    return query


def inbox_count(tenant_id: int | None, account_ids: Collection[int] | None = None) -> int:
    """How many transfers wait in a commune's inbox (``None``: the district's, all of them; across tenants), or
    for the payee of ``account_ids``."""
    return db.session.scalar(_inbox_count_select(tenant_id, account_ids))


def inbox_count_subquery(tenant_id: int):
    """``inbox_count(tenant_id)`` as a scalar subquery (the desk reads it with its other counts)."""
    return _inbox_count_select(tenant_id).scalar_subquery()


def _inbox_count_select(tenant_id: int | None, account_ids: Collection[int] | None = None):
    query = select(func.count()).select_from(BankTransfer).where(BankTransfer.status.in_(INBOX_STATUSES))
    if tenant_id is not None:
        query = query.where(BankTransfer.tenant_id == tenant_id)
    if account_ids is not None:
        query = query.where(of_accounts(account_ids))
    return query


def get_inbox_transfer(transfer_id: int, tenant_id: int | None, *, account_ids: Collection[int] | None = None,
                       for_update: bool = False) -> BankTransfer:
    """The transfer waiting in ``tenant_id``'s inbox (None: the district's, every one), or the payee's of
    ``account_ids``. The
    commune is named explicitly, so the read runs across tenants (row-level security hides unattributed transfers
    otherwise).

    ``for_update``: lock the row and re-read it, so two people acting on one transfer at once cannot both apply
    it (the second waits, then finds it out of the inbox)."""
    query = inbox_query(tenant_id, account_ids).where(BankTransfer.id == transfer_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    with all_tenants():
        transfer = db.session.scalar(query)
        if transfer is None:
            handled = select(BankTransfer.id).where(BankTransfer.id == transfer_id)
            if tenant_id is not None:
                handled = handled.where(BankTransfer.tenant_id == tenant_id)
            if account_ids is not None:
                handled = handled.where(of_accounts(account_ids))
            if db.session.scalar(handled) is not None:  # ours, out of the inbox: a double click or a colleague
                raise ValidationError(_l("This transfer has already been handled, perhaps by a colleague."),
                                      field="transfer")
            raise NotFound(_l("No such transfer in the inbox."))
    return transfer


def resolve(transfer_id: int, tenant_id: int | None, actor, note: str, *,
            account_ids: Collection[int] | None = None) -> BankTransfer:
    """Close an inbox item with a note (refunded by hand, ignored, paid in cash...)."""
    note = (note or "").strip()
    if not note:
        raise ValidationError(_l("Say what was done with this transfer."), field="note")
    with all_tenants():  # the transfer is looked up within ``tenant_id`` (None: the district) explicitly
        transfer = get_inbox_transfer(transfer_id, tenant_id, account_ids=account_ids, for_update=True)
        transfer.status = "resolved"
        transfer.note = note[:1000]
        transfer.resolved_by_id = actor.id
        transfer.resolved_at = utcnow()
        db.session.flush()
        return transfer


def assign(transfer_id: int, tenant_id: int | None, intent_public_id: str, actor, *,
           account_ids: Collection[int] | None = None) -> BankTransfer:
    """Apply an unmatched transfer to the payment a person recognised (the memo was mistyped, say). A payee assigns
    its own transfers to payments into its own accounts only."""
    with all_tenants():
        transfer = get_inbox_transfer(transfer_id, tenant_id, account_ids=account_ids, for_update=True)
        if transfer.status != "unmatched":
            raise ValidationError(_l("Only unmatched transfers can be assigned."), field="transfer")
        intent = _locked_intent(public_id=(intent_public_id or "").strip())
        if intent is None or (tenant_id is not None and intent.tenant_id != tenant_id) or (
                account_ids is not None and intent.account_id not in account_ids):
            raise NotFound(_l("No such payment."), field="intent")
        return _assign_to(transfer, intent, actor)


def _assign_to(transfer: BankTransfer, intent: PaymentIntent, actor) -> BankTransfer:
    """A person's decision that this transfer (locked) pays this intent (locked after it): applied as every bank
    report is (``_apply``), recorded as theirs (``resolved_by_id``: on the audit trail)."""
    transfer.tenant_id, transfer.intent_id = intent.tenant_id, intent.id
    transfer.resolved_by_id = actor.id
    _apply(intent, transfer)
    db.session.flush()
    return transfer


def get_claim(claim_id: int, tenant_id: int) -> PaymentClaim:
    """A confirmation by hand of ``tenant_id``; another commune's does not exist here (404)."""
    with all_tenants():
        claim = db.session.scalar(select(PaymentClaim).where(PaymentClaim.id == claim_id,
                                                             PaymentClaim.tenant_id == tenant_id))
    if claim is None:
        raise NotFound(_l("No such confirmation by hand."))
    return claim


def settle_claim(claim_id: int, transfer_id: int, tenant_id: int, actor) -> PaymentClaim:
    """An overdue confirmation by hand, settled against the bank transfer a person found for it in the commune's
    inbox (a mistyped memo, say): the transfer is applied to the claim's intent as a bank report is (``_apply``),
    so the money is counted once and the claim settled once the amount due is in; a transfer for less counts and
    stays "short" with the claim open. Locks the transfer, then the intent (app/locks.py), and reads the claim
    under the intent's lock: of two people settling one claim, the second is told it is settled. Flushes only."""
    with all_tenants():
        claim = get_claim(claim_id, tenant_id)
        transfer = get_inbox_transfer(transfer_id, tenant_id, for_update=True)
        if transfer.status != "unmatched":
            raise ValidationError(_l("Only unmatched transfers can be assigned."), field="transfer")
        intent = lock_intent(intent_id=claim.intent_id)
        db.session.refresh(claim)
        if claim.status != "open":
            raise ValidationError(_l("The bank has already confirmed this payment."), field="transfer")
        _assign_to(transfer, intent, actor)
        return claim


def accept_late(transfer_id: int, tenant_id: int | None, actor, *,
                account_ids: Collection[int] | None = None) -> BankTransfer:
    """A person accepts money that came after expiry: the intent is paid after all (flagged late)."""
    with all_tenants():
        transfer = get_inbox_transfer(transfer_id, tenant_id, account_ids=account_ids, for_update=True)
        if transfer.status != "late" or transfer.intent_id is None:
            raise ValidationError(_l("Only late payments can be accepted."), field="transfer")
        intent = lock_intent(intent_id=transfer.intent_id)
        if intent.status != "canceled":
            raise ValidationError(_l("This payment is no longer canceled."), field="transfer")
        if intent.amount_received + transfer.amount < intent.amount:  # checked before anything changes
            raise ValidationError(_l("The money received is less than the amount due."), field="transfer")
        _accept_late(intent, transfer, actor.id)
        db.session.flush()
        return transfer


def _accept_late(intent: PaymentIntent, transfer: BankTransfer, actor_id: int | None) -> None:
    intent.amount_received += transfer.amount
    intent.canceled_at = None
    intent.cancellation_reason = None
    transfer.resolved_by_id = actor_id
    transfer.resolved_at = utcnow()
    if intent.amount_received > intent.amount:  # more than due: the difference waits for a refund decision
        intent.flag = "overpaid"
        transfer.status = "overpaid"
        transfer.note = NOTE_LATE_ACCEPTED_OVERPAID
    else:
        intent.flag = "late"
        transfer.status = "resolved"
        transfer.note = NOTE_LATE_ACCEPTED
    _succeed(intent)
    if transfer.status == "overpaid":
        emit(intent, "payment_intent.overpaid")


def accept_late_by_domain(intent: PaymentIntent) -> None:
    """The intent's domain took the late transfer just applied to it (called from its reaction, the intent locked):
    as if a person accepted it, without one. Flushes only."""
    transfer = db.session.scalar(select(BankTransfer).where(
        BankTransfer.intent_id == intent.id, BankTransfer.status == "late").order_by(BankTransfer.id.desc()).limit(1))
    if transfer is None or intent.status != "canceled" or intent.amount_received + transfer.amount < intent.amount:
        return
    _accept_late(intent, transfer, None)
    db.session.flush()
