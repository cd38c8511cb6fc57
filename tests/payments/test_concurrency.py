"""Races on money in (PostgreSQL only: SQLite serialises writers, so it cannot show them).

A live, threaded server receives the same signed notification from 8 threads released at once by a barrier, or
two different half payments at once; the intent must be paid exactly once, with exactly the amount.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone

import pytest

from app import transactions

from app.auth.models import User
from app.extensions import db
from app.payments.bank import reconciliation
from app.payments.intents import get_intent
from app.payments.bank.notifications import BankTransaction
from tenants.scoping import tenant_context
from tests.payments.helpers import (
    ACCOUNT_A,
    event_types,
    intent_state,
    make_account,
    make_intent,
    mangle,
    sepay_payload,
    sepay_request,
    transfers,
)

pytestmark = pytest.mark.usefixtures("bank_secrets", "postgres")

THREADS = 8


def _post(url: str, body: bytes, headers: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url + "/webhooks/sepay", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, {"body": err.read().decode()}


def _all_at_once(jobs) -> list:
    """Run the callables in threads released together by a barrier; return their results in order."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index, job):
        barrier.wait(timeout=30)
        try:
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_the_same_notification_delivered_by_8_threads_at_once_counts_once(app, live_server, intent):
    body, headers = sepay_request(sepay_payload(ACCOUNT_A, mangle(intent.reference_code), 150_000, txn_id=4242))
    results = _all_at_once([lambda: _post(live_server, body, headers)] * THREADS)
    assert results == [(200, {"success": True})] * THREADS
    [stored] = transfers(app)
    assert stored["status"] == "matched"
    state = intent_state(app, intent.public_id)
    assert state["status"] == "succeeded" and state["amount_received"] == 150_000
    assert event_types(app, intent.public_id).count("payment_intent.succeeded") == 1


def test_the_same_notification_through_separate_test_clients_counts_once(app, intent):
    body, headers = sepay_request(sepay_payload(ACCOUNT_A, intent.reference_code, 150_000, txn_id=777))

    def deliver():
        with app.app_context():  # each thread: its own context and database session
            response = app.test_client().post("/webhooks/sepay", data=body, headers=headers)
            return response.status_code, response.get_json()

    assert _all_at_once([deliver] * THREADS) == [(200, {"success": True})] * THREADS
    assert len(transfers(app)) == 1
    assert intent_state(app, intent.public_id)["amount_received"] == 150_000
    assert event_types(app, intent.public_id).count("payment_intent.succeeded") == 1


def test_two_different_half_payments_at_once_add_up_exactly(app, live_server, intent):
    halves = [sepay_request(sepay_payload(ACCOUNT_A, f"{intent.reference_code} phan {n}", 75_000, txn_id=n))
              for n in (1, 2)]
    results = _all_at_once([lambda b=b, h=h: _post(live_server, b, h) for b, h in halves])
    assert results == [(200, {"success": True})] * 2
    state = intent_state(app, intent.public_id)
    assert state["status"] == "succeeded" and state["amount_received"] == 150_000 and state["flag"] is None
    assert sorted(t["status"] for t in transfers(app)) == ["matched", "matched"]
    assert event_types(app, intent.public_id).count("payment_intent.succeeded") == 1


def test_confirm_by_hand_sees_money_that_arrived_after_the_page_loaded_it(app, commune, intent, make):
    """The view loads the intent, a notification lands, then the officer confirms: the lock re-reads the row."""
    officer = make.user("officer@battrang.vn", "officer", commune)
    with app.app_context(), tenant_context(commune):
        loaded = get_intent(intent.public_id)  # in this session's identity map, amount_received 0
        assert loaded.amount_received == 0

        def notification_lands():
            with app.app_context():
                transactions.run(lambda: reconciliation.confirm_transfer(BankTransaction(
                    provider="sepay", provider_txn_id=uuid.uuid4().hex, amount=50_000, content=intent.reference_code,
                    account_number=ACCOUNT_A, bank=None, occurred_at=datetime.now(timezone.utc), reference=None,
                    raw={},
                )))

        other = threading.Thread(target=notification_lands)
        other.start()
        other.join(timeout=30)
        reconciliation.confirm_by_hand(intent.public_id, 100_000, db.session.get(User, officer.id), "cash desk")
        db.session.commit()
    state = intent_state(app, intent.public_id)  # the bank's 50,000 counted, the claimed rest is not money
    assert state["amount_received"] == 50_000 and state["status"] == "succeeded"


def test_a_late_payment_racing_the_expiry_job_is_handled_once(app, commune, make):
    from app.payments.intents import expire_due

    expired = make_intent(app, make_account(app, commune, "0099887766"), 60_000, expired=True)

    def deliver():
        with app.app_context():
            return transactions.run(lambda: reconciliation.confirm_transfer(BankTransaction(
                provider="sepay", provider_txn_id="late-1", amount=60_000, content=expired.reference_code,
                account_number="0099887766", bank=None, occurred_at=datetime.now(timezone.utc), reference=None,
                raw={},
            )).transfer.status)

    def expire():
        with app.app_context():
            return transactions.run(expire_due)

    results = _all_at_once([deliver, expire])
    assert results[0] == "late", results
    state = intent_state(app, expired.public_id)
    assert state["status"] == "canceled" and state["amount_received"] == 0 and state["flag"] == "late"
    assert event_types(app, expired.public_id).count("payment_intent.late_payment") == 1
    [stored] = transfers(app)
    assert stored["status"] == "late"


def _pay(app, public_id: str, reference_code: str, txn_id: str, amount: int):
    with app.app_context():
        return transactions.run(lambda: reconciliation.confirm_transfer(BankTransaction(
            provider="sepay", provider_txn_id=txn_id, amount=amount, content=reference_code,
            account_number="0099887766", bank=None, occurred_at=datetime.now(timezone.utc), reference=None, raw={},
        )))


def test_the_expiry_job_skips_an_intent_being_paid_and_never_cancels_it(app, commune, monkeypatch):
    """A payment holds the intent's lock when the expiry job runs: the job leaves it alone; the payment wins."""
    from datetime import timedelta

    import app.payments.intents as intents

    account = make_account(app, commune, "0099887766")
    intent = make_intent(app, account, 60_000)
    applied, release = threading.Event(), threading.Event()
    real_apply = reconciliation._apply

    def apply_then_hold_the_lock(*args, **kwargs):
        real_apply(*args, **kwargs)
        applied.set()
        release.wait(timeout=10)

    monkeypatch.setattr(reconciliation, "_apply", apply_then_hold_the_lock)
    outcome = {}
    payer = threading.Thread(target=lambda: outcome.update(
        result=_pay(app, intent.public_id, intent.reference_code, "in-time-1", 60_000)))
    payer.start()
    assert applied.wait(timeout=10)
    with app.app_context():  # the job runs while the payment's transaction is still open
        expired = intents.expire_due(now=datetime.now(timezone.utc) + timedelta(hours=1))
    release.set()
    payer.join(timeout=20)

    assert expired == 0
    assert outcome["result"].transfer.status == "matched"
    assert intent_state(app, intent.public_id)["status"] == "succeeded"
    assert "payment_intent.canceled" not in event_types(app, intent.public_id)


def test_a_payment_landing_while_the_expiry_job_holds_the_intent_becomes_a_late_payment(app, commune, monkeypatch):
    """The job locked the intent first: the transfer waits, then finds it canceled and goes to the inbox as late."""
    from datetime import timedelta

    import app.payments.intents as intents

    account = make_account(app, commune, "0099887766")
    intent = make_intent(app, account, 60_000, expired=True)  # by the bank's time too: 5 minutes ago
    locked, release = threading.Event(), threading.Event()
    real_cancel = intents._cancel

    def cancel_and_hold(*args, **kwargs):
        locked.set()
        release.wait(timeout=10)
        return real_cancel(*args, **kwargs)

    def expire():
        with app.app_context():
            intents.expire_due(now=datetime.now(timezone.utc) + timedelta(hours=1))

    monkeypatch.setattr(intents, "_cancel", cancel_and_hold)
    job = threading.Thread(target=expire)
    job.start()
    assert locked.wait(timeout=10)
    outcome = {}
    payer = threading.Thread(target=lambda: outcome.update(
        result=_pay(app, intent.public_id, intent.reference_code, "late-1", 60_000)))
    payer.start()
    payer.join(timeout=1)
    assert payer.is_alive(), "the payment must wait for the job's lock"
    release.set()
    job.join(timeout=20)
    payer.join(timeout=20)

    assert outcome["result"].transfer.status == "late"  # recorded, waiting for a person: not lost
    state = intent_state(app, intent.public_id)
    assert state["status"] == "canceled"
    assert event_types(app, intent.public_id).count("payment_intent.canceled") == 1


def test_two_people_assigning_the_same_transfer_at_once_apply_it_once(app, commune, intent, make):
    """Two officers pick the same unmatched transfer in the inbox and assign it at the same moment."""
    from app.errors import DomainError

    officers = [make.user(f"officer{n}@battrang.vn", "officer", commune) for n in (1, 2)]
    with app.app_context():
        transfer_id = transactions.run(lambda: reconciliation.confirm_transfer(BankTransaction(
            provider="sepay", provider_txn_id="no-memo-1", amount=100_000, content="chuyen tien",
            account_number=ACCOUNT_A, bank=None, occurred_at=datetime.now(timezone.utc), reference=None, raw={},
        )).transfer.id)

    def assign(officer):
        def run():
            with app.app_context():
                try:
                    return transactions.run(lambda: reconciliation.assign(
                        transfer_id, commune.id, intent.public_id, db.session.get(User, officer.id)).status)
                except DomainError as err:
                    return type(err).__name__

        return run

    results = _all_at_once([assign(officer) for officer in officers])
    assert sorted(results) == ["ValidationError", "short"], results  # the second finds it assigned already
    assert intent_state(app, intent.public_id)["amount_received"] == 100_000


def test_one_transfer_reported_by_sepay_and_casso_at_once_is_recorded_once(app, live_server, intent):
    """Two gateways watching one account deliver the same bank transfer (same bank reference) at the same moment."""
    from tests.payments.helpers import CASSO_KEY, bank_reference, casso_body
    from app.payments.bank.casso import sign_casso

    ref = bank_reference()
    sepay_body, sepay_headers = sepay_request(sepay_payload(ACCOUNT_A, intent.reference_code, 150_000, reference=ref))
    casso = casso_body(ACCOUNT_A, intent.reference_code, 150_000, reference=ref)
    casso_bytes = json.dumps(casso, ensure_ascii=False).encode()

    def casso_post():
        import time

        headers = {"Content-Type": "application/json",
                   "X-Casso-Signature": sign_casso(casso, CASSO_KEY, int(time.time() * 1000))}
        request = urllib.request.Request(live_server + "/webhooks/casso", data=casso_bytes, headers=headers,
                                         method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())

    jobs = [lambda: _post(live_server, sepay_body, sepay_headers), casso_post] * 3
    assert _all_at_once(jobs) == [(200, {"success": True})] * 6
    assert len(transfers(app)) == 1
    state = intent_state(app, intent.public_id)
    assert (state["status"], state["amount_received"], state["flag"]) == ("succeeded", 150_000, None)
    assert event_types(app, intent.public_id).count("payment_intent.succeeded") == 1
