"""Refunds: /v1/refunds driven by Stripe's own Python SDK against a live server, the limit (never more than received
minus refunded, also under concurrent requests on PostgreSQL), completion by an outgoing transfer naming the
refund's reference (once), by hand, and the refund's events."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone

import pytest
import stripe
from sqlalchemy import select

from app import transactions
from app.auth.models import User
from app.errors import ValidationError
from app.extensions import db
from app.payments import refunds
from app.payments.bank.notifications import BankTransaction
from app.payments.bank.reconciliation import confirm_transfer
from app.payments.bank.statement import import_statement
from app.payments.models import Event, PaymentAccount, PaymentIntent, Refund
from tenants.models import Tenant
from tenants.scoping import all_tenants, tenant_context
from tests.payments.helpers import post_sepay, sepay_payload

pytestmark = pytest.mark.usefixtures("bank_secrets")

PAYER = {"counter_bank_bin": "970436", "counter_account_number": "0451000123456",
         "counter_account_name": "NGUYEN VAN A"}


@pytest.fixture
def creds(make_api_key):
    return make_api_key("bat-trang")


@pytest.fixture
def client(live_server, creds):
    return stripe.StripeClient(api_key=creds.secret, base_addresses={"api": live_server}, max_network_retries=0)


def account_of(app, creds) -> PaymentAccount:
    with app.app_context(), all_tenants():
        account = db.session.get(PaymentAccount, creds.account_id)
        db.session.expunge(account)
        return account


def pay(app, account, code: str, amount: int, *, payer: dict | None = None, direction: str = "in",
        reference: str | None = None):
    """A transfer into (or out of) ``account`` through confirm_transfer, as a gateway would report it."""
    txn = BankTransaction(
        provider="casso", provider_txn_id=uuid.uuid4().hex, amount=amount, content=f"{code} chuyen tien",
        account_number=account.account_number, bank=None, occurred_at=datetime.now(timezone.utc),
        reference=reference or uuid.uuid4().hex[:12], raw={}, direction=direction, bank_bin=account.bank_bin,
        **(payer if payer is not None else PAYER),
    )
    with app.app_context():
        return transactions.run(lambda: confirm_transfer(txn))


def paid_intent(app, client, creds, amount=150_000, received=None) -> str:
    intent = client.v1.payment_intents.create(params={"amount": amount, "currency": "vnd"})
    pay(app, account_of(app, creds), intent["reference"], received or amount)
    return intent.id


def refund_row(app, public_id: str) -> dict:
    with app.app_context(), all_tenants():
        refund = db.session.scalar(select(Refund).where(Refund.public_id == public_id))
        return {"status": refund.status, "confirmation": refund.confirmation, "amount": refund.amount,
                "outgoing_transfer_id": refund.outgoing_transfer_id, "reference": refund.reference_code,
                "intent_refunded": refund.intent.amount_refunded}


# --- the API through Stripe's SDK -------------------------------------------------------------------------------

def test_the_sdk_creates_lists_and_retrieves_refunds(app, client, creds):
    pi = paid_intent(app, client, creds, 150_000, received=200_000)
    refund = client.v1.refunds.create(params={"payment_intent": pi, "amount": 50_000, "reason": "duplicate",
                                              "metadata": {"ticket": "T-9"}})
    assert isinstance(refund, stripe.Refund)
    assert refund.id.startswith("re_")
    assert (refund.amount, refund.currency, refund.status, refund.reason) == (50_000, "vnd", "pending", "duplicate")
    assert refund.payment_intent == pi and refund.metadata["ticket"] == "T-9"
    details = refund.destination_details["vietqr"]
    assert details["reference"].startswith("HT") and details["reference_status"] == "pending"
    assert (details["bank_bin"], details["account_number"]) == ("970436", "0451000123456")

    assert client.v1.refunds.retrieve(refund.id).id == refund.id
    assert [r.id for r in client.v1.refunds.list().data] == [refund.id]
    assert [r.id for r in client.v1.refunds.list(params={"payment_intent": pi}).data] == [refund.id]
    assert client.v1.payment_intents.retrieve(pi)["amount_refunded"] == 50_000

    updated = client.v1.refunds.update(refund.id, params={"metadata": {"ticket": "", "note": "gọi lại"}})
    assert updated.metadata.to_dict() == {"note": "gọi lại"}

    rest = client.v1.refunds.create(params={"payment_intent": pi})  # the default: all that is left
    assert rest.amount == 150_000
    page = client.v1.refunds.list(params={"limit": 1})
    assert [r.id for r in page.auto_paging_iter()] == [rest.id, refund.id]


def test_a_refund_never_exceeds_what_was_received_minus_refunded(app, client, creds):
    pi = paid_intent(app, client, creds, 100_000)
    client.v1.refunds.create(params={"payment_intent": pi, "amount": 60_000})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": pi, "amount": 40_001})
    assert caught.value.param == "amount" and caught.value.http_status == 400
    assert client.v1.refunds.create(params={"payment_intent": pi, "amount": 40_000}).amount == 40_000
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": pi})
    unpaid = client.v1.payment_intents.create(params={"amount": 5_000, "currency": "vnd"})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": unpaid.id})
    assert len(client.v1.refunds.list().data) == 2


def test_a_refund_of_another_communes_intent_is_404(app, client, make_api_key, live_server):
    other = make_api_key("kieu-ky")
    other_client = stripe.StripeClient(api_key=other.secret, base_addresses={"api": live_server},
                                       max_network_retries=0)
    foreign = paid_intent(app, other_client, other)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": foreign})
    assert caught.value.http_status == 404 and caught.value.code == "resource_missing"
    theirs = other_client.v1.refunds.create(params={"payment_intent": foreign, "amount": 1_000})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.retrieve(theirs.id)
    assert caught.value.http_status == 404
    assert client.v1.refunds.list().data == []


def test_idempotency_key_replays_the_refund(app, client, creds):
    pi = paid_intent(app, client, creds, 100_000)
    first = client.v1.refunds.create(params={"payment_intent": pi, "amount": 30_000},
                                     options={"idempotency_key": "refund-1"})
    again = client.v1.refunds.create(params={"payment_intent": pi, "amount": 30_000},
                                     options={"idempotency_key": "refund-1"})
    assert again.id == first.id
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    with pytest.raises(stripe.IdempotencyError):
        client.v1.refunds.create(params={"payment_intent": pi, "amount": 31_000},
                                 options={"idempotency_key": "refund-1"})
    assert client.v1.payment_intents.retrieve(pi)["amount_refunded"] == 30_000


def test_charges_are_not_supported(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"charge": "ch_123"})
    assert caught.value.param == "charge"


def test_cancel_gives_the_amount_back_and_events_tell_it(app, client, creds):
    pi = paid_intent(app, client, creds, 100_000)
    refund = client.v1.refunds.create(params={"payment_intent": pi, "amount": 100_000},
                                      options={"idempotency_key": "r-evt"})
    canceled = client.v1.refunds.cancel(refund.id)
    assert canceled.status == "canceled"
    assert client.v1.payment_intents.retrieve(pi)["amount_refunded"] == 0
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.cancel(refund.id)
    assert caught.value.http_status == 400 and "no longer pending" in caught.value.user_message
    assert caught.value.code is None  # not a payment intent's state error
    events = client.v1.events.list(params={"type": "refund.updated"}).data
    assert [e.data.object.id for e in events] == [refund.id]
    assert events[0].data.object.status == "canceled"
    created = client.v1.events.list(params={"type": "refund.created"}).data
    assert created[0].data.object.id == refund.id and created[0].request.idempotency_key == "r-evt"
    assert client.v1.refunds.create(params={"payment_intent": pi}).amount == 100_000


# --- completion ------------------------------------------------------------------------------------------------

def test_an_outgoing_transfer_with_the_reference_completes_the_refund_once(app, client, creds):
    pi = paid_intent(app, client, creds, 100_000, received=130_000)
    refund = client.v1.refunds.create(params={"payment_intent": pi, "amount": 30_000})
    code = refund.destination_details["vietqr"]["reference"]
    account = account_of(app, creds)
    out = pay(app, account, code, 30_000, direction="out")
    row = refund_row(app, refund.id)
    assert (row["status"], row["confirmation"], row["outgoing_transfer_id"]) == ("succeeded", "transfer",
                                                                                 out.transfer.id)
    again = pay(app, account, code, 30_000, direction="out")  # another transfer naming it: noted, nothing changes
    assert again.transfer.note == refunds.NOTE_REFUND_DONE
    assert refund_row(app, refund.id)["outgoing_transfer_id"] == out.transfer.id
    assert client.v1.refunds.retrieve(refund.id).status == "succeeded"
    assert [e.data.object.status for e in client.v1.events.list(params={"type": "refund.updated"}).data] == [
        "succeeded"]


def test_a_wrong_amount_or_another_account_does_not_complete_it(app, client, creds, make_api_key):
    pi = paid_intent(app, client, creds, 100_000)
    refund = client.v1.refunds.create(params={"payment_intent": pi, "amount": 40_000})
    code = refund.destination_details["vietqr"]["reference"]
    assert pay(app, account_of(app, creds), code, 39_000, direction="out").transfer.note == refunds.NOTE_REFUND_AMOUNT
    other = account_of(app, make_api_key("kieu-ky"))
    pay(app, other, code, 40_000, direction="out")
    assert refund_row(app, refund.id)["status"] == "pending"


def test_a_statement_row_of_money_out_completes_the_refund(app, client, creds):
    pi = paid_intent(app, client, creds, 100_000)
    refund = client.v1.refunds.create(params={"payment_intent": pi, "amount": 25_000})
    code = refund.destination_details["vietqr"]["reference"]
    account = account_of(app, creds)
    csv_text = f"transaction_id,date,amount,content\nS1,30/11/2026 10:00,-25.000,HOAN TIEN {code}\n"
    with app.app_context(), tenant_context(creds.tenant_id):
        assert import_statement(csv_text, account).counts == {"outgoing": 1}
    assert refund_row(app, refund.id)["status"] == "succeeded"


def test_a_sepay_money_out_notification_completes_the_refund(app, client, creds):
    pi = paid_intent(app, client, creds, 100_000)
    refund = client.v1.refunds.create(params={"payment_intent": pi, "amount": 10_000})
    code = refund.destination_details["vietqr"]["reference"]
    account = account_of(app, creds)
    payload = sepay_payload(account.account_number, f"IBFT {code}", 10_000, transfer_type="out")
    payload["gateway"] = "VietinBank"
    with app.test_client() as http:
        assert post_sepay(http, payload).status_code == 200
    assert refund_row(app, refund.id)["status"] == "succeeded"


def test_staff_confirm_by_hand_is_recorded_as_such_and_only_once(app, client, creds, make):
    pi = paid_intent(app, client, creds, 100_000)
    refund = client.v1.refunds.create(params={"payment_intent": pi, "amount": 10_000})
    with app.app_context():
        tenant = db.session.get(Tenant, creds.tenant_id)
    officer = make.user("officer@battrang.vn", "officer", tenant)
    with app.app_context(), tenant_context(creds.tenant_id):
        refunds.confirm_by_hand(refunds.get_refund(refund.id), db.session.get(User, officer.id))
        db.session.commit()
        with pytest.raises(ValidationError):
            refunds.confirm_by_hand(refunds.get_refund(refund.id), db.session.get(User, officer.id))
        db.session.rollback()
        assert refunds.get_refund(refund.id).confirmed_by_id == officer.id
    row = refund_row(app, refund.id)
    assert (row["status"], row["confirmation"]) == ("succeeded", "manual")
    code = row["reference"]
    assert pay(app, account_of(app, creds), code, 10_000, direction="out").transfer.note == refunds.NOTE_REFUND_DONE


# --- concurrency (PostgreSQL) ------------------------------------------------------------------------------------

def test_concurrent_refunds_never_exceed_the_amount_received(app, client, creds, postgres, live_server):
    pi = paid_intent(app, client, creds, 100_000)
    barrier = threading.Barrier(6)
    results: list = [None] * 6

    def attempt(index):
        mine = stripe.StripeClient(api_key=creds.secret, base_addresses={"api": live_server}, max_network_retries=0)
        barrier.wait(timeout=30)
        try:
            results[index] = mine.v1.refunds.create(params={"payment_intent": pi, "amount": 30_000}).id
        except stripe.InvalidRequestError as err:
            results[index] = err.http_status

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    created = [r for r in results if isinstance(r, str)]
    assert len(created) == 3 and results.count(400) == 3
    with app.app_context(), all_tenants():
        intent = db.session.scalar(select(PaymentIntent).where(PaymentIntent.public_id == pi))
        total = sum(r.amount for r in db.session.scalars(select(Refund).where(Refund.intent_id == intent.id)))
        assert total == intent.amount_refunded == 90_000
        assert db.session.scalar(select(Event).where(Event.type == "refund.created")) is not None
