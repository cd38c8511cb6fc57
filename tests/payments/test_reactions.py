"""Domains hear about their own payments through one signal, inside the transaction that changes the intent."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from app import transactions
from app.extensions import db
from app.payments.bank import reconciliation
from app.payments.bank.notifications import BankTransaction
from app.payments.models import PaymentIntent
from app.payments.reactions import payment_event
from tenants.scoping import all_tenants
from tests.payments.helpers import ACCOUNT_A, intent_state, make_intent

pytestmark = pytest.mark.usefixtures("bank_secrets")


def pay(app, intent, amount=None):
    txn = BankTransaction(
        provider="sepay", provider_txn_id=uuid.uuid4().hex, amount=amount or intent.amount,
        content=f"{intent.reference_code} nop phi", account_number=ACCOUNT_A, bank="Vietcombank",
        occurred_at=datetime.now(timezone.utc), reference=None, raw={},
    )
    with app.app_context():
        return transactions.run(lambda: reconciliation.confirm_transfer(txn))


@pytest.fixture
def heard():
    """Every (purpose, event type, status) the test's handler hears for intents of purpose "fee"."""
    calls = []

    def handler(purpose, *, intent, event_type):
        calls.append((purpose, event_type, intent.status))

    payment_event.connect(handler, sender="fee")
    yield calls
    payment_event.disconnect(handler, sender="fee")


def test_the_domain_of_the_purpose_hears_each_change_of_its_intents(app, account, heard):
    intent = make_intent(app, account, 90_000)  # purpose "fee"
    assert heard == [("fee", "payment_intent.created", "requires_action"),
                     ("fee", "payment_intent.requires_action", "requires_action")]
    pay(app, intent)
    assert heard[-1] == ("fee", "payment_intent.succeeded", "succeeded")


def test_a_handler_is_not_called_for_another_purpose(app, account, heard):
    from tests.payments.helpers import create_intent
    from tenants.scoping import tenant_context

    with app.app_context(), tenant_context(account.tenant_id):
        create_intent(db.session.get(type(account), account.id), 10_000, purpose="market_sale")
    assert heard == []


def test_the_handler_runs_inside_the_confirming_transaction(app, account):
    """What the handler changes commits with the confirmation; if it fails, the confirmation is rolled back and the
    transfer is not recorded (the bank's retry will bring it again), so the domain never misses a payment."""
    intent = make_intent(app, account, 90_000)

    def failing(purpose, *, intent, event_type):
        if event_type == "payment_intent.succeeded":
            intent.description = "changed by the domain"
            raise RuntimeError("the domain failed")

    payment_event.connect(failing, sender="fee")
    try:
        with pytest.raises(RuntimeError):
            pay(app, intent)
    finally:
        payment_event.disconnect(failing, sender="fee")
    with app.app_context():
        db.session.rollback()
    assert intent_state(app, intent.public_id)["status"] == "requires_action"

    def changing(purpose, *, intent, event_type):
        if event_type == "payment_intent.succeeded":
            intent.description = "changed by the domain"

    payment_event.connect(changing, sender="fee")
    try:
        pay(app, intent)
    finally:
        payment_event.disconnect(changing, sender="fee")
    with app.app_context(), all_tenants():
        stored = db.session.scalar(db.select(PaymentIntent).where(PaymentIntent.public_id == intent.public_id))
        assert (stored.status, stored.description) == ("succeeded", "changed by the domain")


def test_refund_changes_are_heard_with_the_intent(app, heard, intent):
    from app.payments import refunds
    from tenants.scoping import tenant_context

    pay(app, intent)
    with app.app_context(), tenant_context(intent.tenant_id):
        found = db.session.get(PaymentIntent, intent.id)
        refund = refunds.create_refund(found, 40_000)
        db.session.commit()
        refunds.cancel_refund(refund)
        db.session.commit()
    assert heard[-2:] == [("fee", "refund.created", "succeeded"), ("fee", "refund.updated", "succeeded")]
    assert intent_state(app, intent.public_id)["status"] == "succeeded"
