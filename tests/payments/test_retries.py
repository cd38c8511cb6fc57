"""A deadlock runs the whole unit of work again, and it applies once (issue #15, "Build": retries for the bank
receivers, the API, staff posts; vendor posts in tests/marketplace/test_unit_of_work.py). PostgreSQL only: the
deadlock is a real PostgreSQL error (SQLSTATE 40P01) raised by the server in the middle of the unit of work, after
its writes were flushed (``deadlock_once``)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.payments.models import BankTransfer, PaymentClaim, PaymentIntent
from tenants.scoping import all_tenants
from tests.conftest import login, post_form
from tests.payments.helpers import (
    ACCOUNT_A,
    deadlock_once,
    event_types,
    intent_state,
    post_sepay,
    sepay_payload,
    transfers,
)

pytestmark = pytest.mark.usefixtures("bank_secrets", "postgres")


def test_a_bank_notification_that_deadlocks_is_recorded_once_on_the_retry(app, client, intent):
    with deadlock_once("payment_intent.succeeded") as seen:
        response = post_sepay(client, sepay_payload(ACCOUNT_A, f"{intent.reference_code} nop phi", 150_000))
    assert response.status_code == 200 and response.get_json() == {"success": True}
    assert len(seen) == 2  # the first run was aborted by the deadlock, the second committed
    assert [(t["amount"], t["status"]) for t in transfers(app)] == [(150_000, "matched")]
    assert intent_state(app, intent.public_id)["amount_received"] == 150_000
    assert event_types(app, intent.public_id).count("payment_intent.succeeded") == 1


def test_a_bank_notification_that_always_deadlocks_answers_503_and_records_nothing(app, client, intent,
                                                                                 monkeypatch):
    monkeypatch.setitem(app.config, "TRANSACTION_ATTEMPTS", 1)
    with deadlock_once("payment_intent.succeeded"):
        response = post_sepay(client, sepay_payload(ACCOUNT_A, f"{intent.reference_code} nop phi", 150_000))
    assert response.status_code == 503
    assert transfers(app) == [] and intent_state(app, intent.public_id)["status"] == "requires_action"


@pytest.fixture
def creds(make_api_key):
    return make_api_key("bat-trang")


def _intents_of(app, account_id: int) -> int:
    with app.app_context(), all_tenants():
        return db.session.scalar(select(func.count()).select_from(PaymentIntent)
                                 .where(PaymentIntent.account_id == account_id))


@pytest.mark.parametrize("idempotency_key", [None, "retry-key-1"])
def test_an_api_post_that_deadlocks_applies_once(app, client, creds, idempotency_key):
    headers = {**creds.headers, **({"Idempotency-Key": idempotency_key} if idempotency_key else {})}
    with deadlock_once("payment_intent.created") as seen:
        response = client.post("/v1/payment_intents", data={"amount": "50000", "currency": "vnd"}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert len(seen) == 2
    assert _intents_of(app, creds.account_id) == 1
    assert event_types(app, response.get_json()["id"]) == ["payment_intent.created", "payment_intent.requires_action"]
    if idempotency_key:  # the stored answer is the one of the run that committed
        again = client.post("/v1/payment_intents", data={"amount": "50000", "currency": "vnd"}, headers=headers)
        assert again.get_json()["id"] == response.get_json()["id"]


def test_an_api_post_that_always_deadlocks_answers_503_in_stripes_shape(app, client, creds, monkeypatch):
    monkeypatch.setitem(app.config, "TRANSACTION_ATTEMPTS", 2)
    # Two injectors: the first aborts the first run, the second (reached only once the first lets go) the second.
    with deadlock_once("payment_intent.created"), deadlock_once("payment_intent.created"):
        response = client.post("/v1/payment_intents", data={"amount": "50000", "currency": "vnd"},
                               headers={**creds.headers, "Idempotency-Key": "always"})
    assert response.status_code == 503 and "Retry-After" in response.headers  # (the rate limiter rewrites its value)
    assert response.get_json()["error"]["type"] == "api_error"
    assert _intents_of(app, creds.account_id) == 0


def test_a_staff_confirmation_that_deadlocks_is_recorded_once(app, client, make, commune, account, intent):
    make.user("officer@bt.vn", "officer", commune)
    login(client, "officer@bt.vn")
    path = f"/c/{commune.slug}/payments/{intent.public_id}"
    with deadlock_once("payment_intent.succeeded") as seen:
        response = post_form(client, path + "/confirm", {"amount": "150000", "note": "tiền mặt"}, token_from=path)
    assert response.status_code == 302
    assert len(seen) == 2
    with app.app_context(), all_tenants():  # one claim (a confirmation by hand is not money received: issue #15)
        claims = db.session.scalars(select(PaymentClaim)).all()
        assert [(c.amount, c.status) for c in claims] == [(150_000, "open")]
        assert db.session.scalars(select(BankTransfer)).all() == []
    state = intent_state(app, intent.public_id)
    assert state["status"] == "succeeded" and state["amount_received"] == 0
