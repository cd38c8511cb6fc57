"""Stripe's own Python SDK against a live server: only the base URL changes."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import stripe

from app.payments import vietqr


@pytest.fixture
def creds(make_api_key):
    return make_api_key("bat-trang")


@pytest.fixture
def client(live_server, creds):
    return stripe.StripeClient(api_key=creds.secret, base_addresses={"api": live_server}, max_network_retries=0)


def test_payment_intent_lifecycle(client):
    intent = client.v1.payment_intents.create(
        params={"amount": 150000, "currency": "vnd", "metadata": {"order": "A1"}}
    )
    assert isinstance(intent, stripe.PaymentIntent)
    assert intent.id.startswith("pi_")
    assert (intent.amount, intent.currency, intent.status) == (150000, "vnd", "requires_action")
    assert intent.metadata["order"] == "A1"
    assert intent.next_action.type == "vietqr_display_qr_code"
    decoded = vietqr.decode(intent.next_action["vietqr_display_qr_code"]["data"])
    assert decoded.amount == 150000
    assert intent["reference"] in decoded.memo
    png = urlsplit(intent.next_action["vietqr_display_qr_code"]["image_url_png"])
    assert png.path == f"/pay/{intent.id}/qr.png" and png.query.startswith("v=")

    retrieved = client.v1.payment_intents.retrieve(intent.id)
    assert retrieved.id == intent.id and retrieved.status == "requires_action"

    updated = client.v1.payment_intents.update(intent.id, params={"metadata": {"order": "A2", "note": "x"}})
    assert updated.metadata.to_dict() == {"order": "A2", "note": "x"}

    canceled = client.v1.payment_intents.cancel(intent.id, params={"cancellation_reason": "requested_by_customer"})
    assert canceled.status == "canceled"
    assert canceled.cancellation_reason == "requested_by_customer"

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.cancel(intent.id)
    assert caught.value.code == "payment_intent_unexpected_state"


def test_auto_pagination_walks_every_intent_in_order(client):
    created = [client.v1.payment_intents.create(params={"amount": 1000 + n, "currency": "vnd"}).id
               for n in range(25)]
    page = client.v1.payment_intents.list(params={"limit": 10})
    assert len(page.data) == 10 and page.has_more is True
    walked = [intent.id for intent in page.auto_paging_iter()]
    assert walked == created[::-1]


def test_webhook_endpoints(client):
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": "https://shop.example/stripe", "enabled_events": ["payment_intent.succeeded"]}
    )
    assert isinstance(endpoint, stripe.WebhookEndpoint)
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.enabled_events == ["payment_intent.succeeded"]
    listed = client.v1.webhook_endpoints.list()
    assert [item.id for item in listed.data] == [endpoint.id]
    assert "secret" not in listed.data[0]
    deleted = client.v1.webhook_endpoints.delete(endpoint.id)
    assert deleted.deleted is True and deleted.id == endpoint.id
    assert client.v1.webhook_endpoints.list().data == []


def test_events(client):
    intent = client.v1.payment_intents.create(params={"amount": 5000, "currency": "vnd"},
                                              options={"idempotency_key": "evt-key"})
    events = client.v1.events.list()
    types = [event.type for event in events.data]
    assert "payment_intent.created" in types
    created = next(event for event in events.data if event.type == "payment_intent.created")
    assert isinstance(created, stripe.Event)
    assert created.data.object.id == intent.id
    assert created.request.idempotency_key == "evt-key"
    filtered = client.v1.events.list(params={"type": "payment_intent.created"})
    assert [event.id for event in filtered.data] == [created.id]
    assert client.v1.events.retrieve(created.id).id == created.id


def test_idempotent_replay_and_mismatch(client):
    params = {"amount": 70000, "currency": "vnd", "metadata": {"order": "B7"}}
    first = client.v1.payment_intents.create(params=params, options={"idempotency_key": "order-B7"})
    again = client.v1.payment_intents.create(params=params, options={"idempotency_key": "order-B7"})
    assert again.id == first.id
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert len(client.v1.payment_intents.list().data) == 1

    with pytest.raises(stripe.IdempotencyError) as caught:
        client.v1.payment_intents.create(params={**params, "amount": 80000}, options={"idempotency_key": "order-B7"})
    assert caught.value.http_status == 400
    assert len(client.v1.payment_intents.list().data) == 1


def test_errors_map_to_the_sdks_classes(client, live_server):
    bad = stripe.StripeClient(api_key="sk_test_notarealkey1234", base_addresses={"api": live_server},
                              max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError) as caught:
        bad.v1.payment_intents.list()
    assert caught.value.http_status == 401
    assert "sk_test_****1234" in caught.value.user_message

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    assert caught.value.param == "currency" and caught.value.http_status == 400

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.retrieve("pi_doesnotexist")
    assert caught.value.code == "resource_missing" and caught.value.http_status == 404

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(params={"amount": 1000, "currency": "vnd", "capture_method": "manual"})
    assert caught.value.param == "capture_method" and caught.value.code == "parameter_unknown"


def test_the_sdk_sees_the_rate_limit_as_rate_limit_error(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "2 per minute")
    client.v1.payment_intents.list()
    client.v1.payment_intents.list()
    with pytest.raises(stripe.RateLimitError):
        client.v1.payment_intents.list()


def test_module_level_style(live_server, creds, monkeypatch):
    monkeypatch.setattr(stripe, "api_key", creds.secret)
    monkeypatch.setattr(stripe, "api_base", live_server)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    intent = stripe.PaymentIntent.create(amount=25000, currency="vnd", description="Chợ Bát Tràng",
                                         idempotency_key="module-1")
    assert intent.status == "requires_action" and intent.description == "Chợ Bát Tràng"
    assert stripe.PaymentIntent.create(amount=25000, currency="vnd", description="Chợ Bát Tràng",
                                       idempotency_key="module-1").id == intent.id
    assert stripe.PaymentIntent.retrieve(intent.id).amount == 25000
    modified = stripe.PaymentIntent.modify(intent.id, amount=30000)
    assert modified.amount == 30000
    assert [item.id for item in stripe.PaymentIntent.list(limit=3).auto_paging_iter()] == [intent.id]
    assert stripe.PaymentIntent.cancel(intent.id).status == "canceled"


def test_paid_by_a_signed_bank_notification_and_the_event_verifies_with_the_sdk(client, live_server, app):
    """The whole story with Stripe's own SDK: create, read the QR, the bank reports the transfer, the intent is
    retrieved succeeded, and the outgoing webhook verifies with stripe.Webhook.construct_event."""
    import json
    import urllib.request

    from app.payments.webhooks.delivery import deliver_due
    from tests.payments.helpers import Receiver

    receiver = Receiver()
    try:
        endpoint = client.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["payment_intent.succeeded"]}
        )
        intent = client.v1.payment_intents.create(params={"amount": 275000, "currency": "vnd"})
        qr = vietqr.decode(intent.next_action["vietqr_display_qr_code"]["data"])
        assert qr.amount == 275000 and qr.initiation == "12"
        reference = intent["reference"]
        assert qr.memo == reference

        notification = json.dumps({
            "id": 92704511, "gateway": "VietinBank", "transactionDate": "2026-11-27 09:15:02",
            "accountNumber": qr.account, "code": None, "content": f"MBVCB.8812.{reference}.CT tu 0123 NGUYEN VAN A",
            "transferType": "in", "transferAmount": 275000, "accumulated": 1275000, "subAccount": None,
            "referenceCode": "FT26331123456", "description": "",
        }).encode()
        request = urllib.request.Request(
            f"{live_server}/webhooks/sepay", data=notification, method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Apikey {app.config['SEPAY_API_KEY']}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200 and json.loads(response.read()) == {"success": True}

        paid = client.v1.payment_intents.retrieve(intent.id)
        assert (paid.status, paid.amount_received, paid.next_action) == ("succeeded", 275000, None)

        with app.app_context():
            assert deliver_due() == 1
        [delivery] = receiver.received
        event = stripe.Webhook.construct_event(
            delivery["body"], delivery["headers"]["Stripe-Signature"], endpoint.secret
        )
        assert event.type == "payment_intent.succeeded"
        assert event.data.object.id == intent.id and event.data.object.status == "succeeded"
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(delivery["body"], delivery["headers"]["Stripe-Signature"], "whsec_wrong")
    finally:
        receiver.close()
