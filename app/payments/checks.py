"""The money invariants, read from the database by ``flask payments check`` (run it nightly in production, and CI
runs it after the PostgreSQL concurrency tests; docs/payments.md, "Checking the money").

Payments checks its own rows; each domain that takes payments registers the checks of its own rows with
``register`` (payments imports no domain). A check returns a list of violations, one line each; none is clean.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import and_, func, select

from app.extensions import db
from app.payments.models import BankTransfer, Event, PaymentIntent, Refund
from tenants.scoping import all_tenants

Check = Callable[[], list[str]]
_CHECKS: dict[str, Check] = {}

# A transfer a bank source reported coming in (a confirmation by hand is a claim, never a transfer).
_MONEY_IN = and_(BankTransfer.status != "outgoing", BankTransfer.provider != "manual")


def register(name: str, check: Check) -> None:
    """A domain's invariant over its own rows (``name`` shown before each violation)."""
    _CHECKS[name] = check


def refunded_at_most_moved() -> list[str]:
    """Per intent: what is refunded or being refunded never exceeds what bank sources reported coming in, and the
    intent's ``amount_refunded`` is the sum of its open refunds."""
    moved = (select(BankTransfer.intent_id, func.sum(BankTransfer.amount).label("moved"))
             .where(_MONEY_IN, BankTransfer.intent_id.is_not(None)).group_by(BankTransfer.intent_id).subquery())
    refunded = (select(Refund.intent_id, func.sum(Refund.amount).label("refunded"))
                .where(Refund.status.in_(("pending", "succeeded"))).group_by(Refund.intent_id).subquery())
    rows = db.session.execute(
        select(PaymentIntent.public_id, PaymentIntent.amount_refunded, func.coalesce(moved.c.moved, 0),
               func.coalesce(refunded.c.refunded, 0))
        .outerjoin(moved, moved.c.intent_id == PaymentIntent.id)
        .outerjoin(refunded, refunded.c.intent_id == PaymentIntent.id)
        .where((func.coalesce(refunded.c.refunded, 0) > func.coalesce(moved.c.moved, 0))
               | (PaymentIntent.amount_refunded != func.coalesce(refunded.c.refunded, 0)))
        .order_by(PaymentIntent.id))
    return [f"{pid}: refunded {int(refs)} (amount_refunded {int(shown)}) but banks moved {int(got)}"
            for pid, shown, got, refs in rows]


def one_succeeded_event() -> list[str]:
    """Every succeeded intent has exactly one ``payment_intent.succeeded`` event; no other intent has one more
    than once."""
    count = (select(Event.intent_id, func.count().label("n")).where(Event.type == "payment_intent.succeeded")
             .group_by(Event.intent_id).subquery())
    rows = db.session.execute(
        select(PaymentIntent.public_id, PaymentIntent.status, func.coalesce(count.c.n, 0))
        .outerjoin(count, count.c.intent_id == PaymentIntent.id)
        .where(((PaymentIntent.status == "succeeded") & (func.coalesce(count.c.n, 0) != 1))
               | (func.coalesce(count.c.n, 0) > 1))
        .order_by(PaymentIntent.id))
    return [f"{pid}: {status} with {int(n)} payment_intent.succeeded events" for pid, status, n in rows]


def bank_reference_once() -> list[str]:
    """A bank reference into one account (bank and number) is recorded once, whatever reported it."""
    rows = db.session.execute(
        select(BankTransfer.bank_bin, BankTransfer.account_number, BankTransfer.bank_reference, func.count())
        .where(BankTransfer.bank_reference.is_not(None), BankTransfer.status != "outgoing")
        .group_by(BankTransfer.bank_bin, BankTransfer.account_number, BankTransfer.bank_reference)
        .having(func.count() > 1))
    return [f"bank reference {ref} into {bin_ or '?'}/{number or '?'} recorded {n} times"
            for bin_, number, ref, n in rows]


def received_is_bank_money() -> list[str]:
    """An intent's ``amount_received`` never exceeds what bank sources reported for it (a claim is not money)."""
    moved = (select(BankTransfer.intent_id, func.sum(BankTransfer.amount).label("moved"))
             .where(_MONEY_IN, BankTransfer.intent_id.is_not(None)).group_by(BankTransfer.intent_id).subquery())
    rows = db.session.execute(
        select(PaymentIntent.public_id, PaymentIntent.amount_received, func.coalesce(moved.c.moved, 0))
        .outerjoin(moved, moved.c.intent_id == PaymentIntent.id)
        .where(PaymentIntent.amount_received > func.coalesce(moved.c.moved, 0))
        .order_by(PaymentIntent.id))
    return [f"{pid}: amount_received {int(shown)} but banks reported {int(got)}" for pid, shown, got in rows]


PAYMENT_CHECKS: dict[str, Check] = {
    "refunds": refunded_at_most_moved,
    "events": one_succeeded_event,
    "bank references": bank_reference_once,
    "received": received_is_bank_money,
}


def violations() -> list[str]:
    """Every violation, across all communes, each prefixed with its check's name."""
    found = []
    with all_tenants():
        for name, check in (*PAYMENT_CHECKS.items(), *sorted(_CHECKS.items())):
            found.extend(f"{name}: {line}" for line in check())
    return found
