"""A refund goes back to the account that sent the money being refunded (issue #15 item 3), driven by Stripe's own
SDK: ``/v1/charges`` lists the transfers that paid an intent with each payer; ``/v1/refunds`` refunds a named
``charge``, and defaults only when one transfer paid the intent."""

from __future__ import annotations

import pytest
import stripe

from tests.payments.test_refunds import PAYER, account_of, client, creds, pay, refund_row  # noqa: F401 - fixtures

pytestmark = pytest.mark.usefixtures("bank_secrets")

ATTACKER = {"counter_bank_bin": "970422", "counter_account_number": "0990000999", "counter_account_name": "KE GIAN"}


def test_an_attackers_transfer_never_receives_the_payers_refund(app, client, creds):  # noqa: F811
    """The citizen paid 8,000; someone who learnt the reference sent 2,000 more. A refund without a named charge is
    refused (two payers); each charge is listed with its payer; the citizen's refund goes to the citizen."""
    intent = client.v1.payment_intents.create(params={"amount": 8_000, "currency": "vnd"})
    account = account_of(app, creds)
    pay(app, account, intent["reference"], 8_000, payer=PAYER)
    pay(app, account, intent["reference"], 2_000, payer=ATTACKER)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 8_000})
    assert refused.value.param == "charge"
    charges = client.v1.charges.list(params={"payment_intent": intent.id}).data
    assert [(c.amount, c.billing_details.name, c.payment_method_details["vietqr"]["account_number"])
            for c in charges] == [(8_000, "NGUYEN VAN A", "0451000123456"), (2_000, "KE GIAN", "0990000999")]
    citizen, attacker = charges
    refund = client.v1.refunds.create(params={"charge": citizen.id})
    assert refund.amount == 8_000 and refund.charge == citizen.id and refund.payment_intent == intent.id
    assert refund.destination_details["vietqr"]["account_number"] == "0451000123456"
    with pytest.raises(stripe.InvalidRequestError):  # nothing left of the citizen's transfer
        client.v1.refunds.create(params={"charge": citizen.id, "amount": 1})
    back = client.v1.refunds.create(params={"charge": attacker.id, "payment_intent": intent.id})
    assert back.amount == 2_000 and back.destination_details["vietqr"]["account_number"] == "0990000999"
    assert client.v1.charges.retrieve(citizen.id).amount_refunded == 8_000


def test_one_payer_is_the_default_and_a_charge_of_another_account_is_a_404(app, client, creds, make_api_key):  # noqa: F811
    intent = client.v1.payment_intents.create(params={"amount": 50_000, "currency": "vnd"})
    pay(app, account_of(app, creds), intent["reference"], 50_000, payer=PAYER)
    [charge] = client.v1.charges.list(params={"payment_intent": intent.id}).data
    other = make_api_key("bat-trang")
    with app.test_client() as raw:
        answer = raw.post("/v1/refunds", data={"charge": charge.id}, headers=other.headers)
        assert answer.status_code == 404 and answer.get_json()["error"]["param"] == "charge"
        assert raw.get(f"/v1/charges/{charge.id}", headers=other.headers).status_code == 404
    refund = client.v1.refunds.create(params={"payment_intent": intent.id})
    assert refund.amount == 50_000 and refund.charge == charge.id
    assert refund.destination_details["vietqr"]["account_name"] == "NGUYEN VAN A"
