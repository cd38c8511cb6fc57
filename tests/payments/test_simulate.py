"""`flask payments simulate-transfer`: a signed SePay notification through the real webhook route, in-process or
over HTTP to a running server; refused in production; clear errors."""

from __future__ import annotations

import pytest

from app.payments.bank.simulate import SimulationError, simulate_transfer
from tests.payments.helpers import event_types, intent_state, make_account, make_intent, transfers

pytestmark = pytest.mark.usefixtures("bank_secrets")


def test_simulate_transfer_in_process_pays_the_intent(app, runner, intent):
    result = runner.invoke(args=["payments", "simulate-transfer", intent.reference_code])
    assert result.exit_code == 0, result.output
    assert "SIMULATION" in result.output
    assert "status succeeded" in result.output
    state = intent_state(app, intent.public_id)
    assert state["status"] == "succeeded" and state["amount_received"] == 150_000
    assert event_types(app, intent.public_id).count("payment_intent.succeeded") == 1
    [stored] = transfers(app)
    assert stored["provider"] == "sepay" and stored["status"] == "matched"
    assert stored["content"] == f"SIMULATION {intent.reference_code} chuyen khoan"
    assert stored["account_number"] == intent.account.account_number


def test_simulate_transfer_with_an_amount_pays_part(app, runner, intent):
    result = runner.invoke(args=["payments", "simulate-transfer", intent.reference_code.lower(), "50000"])
    assert result.exit_code == 0, result.output
    assert "status requires_action" in result.output and "flagged short" in result.output
    assert intent_state(app, intent.public_id)["amount_received"] == 50_000
    result = runner.invoke(args=["payments", "simulate-transfer", intent.reference_code])  # the rest
    assert result.exit_code == 0, result.output
    assert intent_state(app, intent.public_id) == {
        "status": "succeeded", "amount_received": 150_000, "flag": None, "cancellation_reason": None}


def test_simulate_transfer_over_http_to_a_live_server(app, runner, intent, live_server):
    result = runner.invoke(args=["payments", "simulate-transfer", intent.reference_code, "--url", live_server])
    assert result.exit_code == 0, result.output
    assert f"Delivered to {live_server}/webhooks/sepay: HTTP 200" in result.output
    assert intent_state(app, intent.public_id)["status"] == "succeeded"


def test_simulate_transfer_function_returns_what_happened(app, intent, live_server):
    with app.app_context():
        result = simulate_transfer(intent.reference_code, url=live_server + "/webhooks/sepay")
    assert result["simulation"] is True and result["accepted"] is True
    assert result["intent_status"] == "succeeded" and result["amount_received"] == 150_000
    assert result["payment_intent"] == intent.public_id and result["http_status"] == 200


def test_simulate_transfer_signs_with_hmac_when_no_api_key(app, runner, intent, monkeypatch):
    monkeypatch.setitem(app.config, "SEPAY_API_KEY", None)
    result = runner.invoke(args=["payments", "simulate-transfer", intent.reference_code])
    assert result.exit_code == 0, result.output
    assert intent_state(app, intent.public_id)["status"] == "succeeded"


def test_simulate_transfer_uses_the_accounts_own_secret_when_nothing_is_configured(app, runner, make, monkeypatch):
    monkeypatch.setitem(app.config, "SEPAY_API_KEY", None)
    monkeypatch.setitem(app.config, "SEPAY_WEBHOOK_SECRET", None)
    own = make_account(app, make.tenant("xa-kieu-ky"), "0021009876543", sepay_webhook_secret="own-webhook-secret")
    intent = make_intent(app, own, 40_000)
    result = runner.invoke(args=["payments", "simulate-transfer", intent.reference_code])
    assert result.exit_code == 0, result.output
    assert intent_state(app, intent.public_id)["status"] == "succeeded"


def test_simulate_transfer_cannot_sign_with_an_api_key_it_only_knows_the_digest_of(app, runner, make, monkeypatch):
    monkeypatch.setitem(app.config, "SEPAY_API_KEY", None)
    monkeypatch.setitem(app.config, "SEPAY_WEBHOOK_SECRET", None)
    own = make_account(app, make.tenant("xa-kieu-ky"), "0021009876543", sepay_api_key="own-key-123")
    intent = make_intent(app, own, 40_000)
    result = runner.invoke(args=["payments", "simulate-transfer", intent.reference_code])
    assert result.exit_code != 0 and "must be signed" in result.output
    assert intent_state(app, intent.public_id)["status"] == "requires_action"


def test_simulate_transfer_is_refused_in_production(app, runner, intent, monkeypatch):
    monkeypatch.setitem(app.config, "PRODUCTION", True)
    result = runner.invoke(args=["payments", "simulate-transfer", intent.reference_code])
    assert result.exit_code != 0
    assert "refused in production" in result.output
    with app.app_context(), pytest.raises(SimulationError, match="production"):
        simulate_transfer(intent.reference_code)
    assert transfers(app) == []
    assert intent_state(app, intent.public_id)["status"] == "requires_action"


def test_unknown_reference_code_is_a_clear_error(app, runner, intent):
    result = runner.invoke(args=["payments", "simulate-transfer", "GLZZZZZZZZ"])
    assert result.exit_code != 0
    assert "No payment intent has the reference code 'GLZZZZZZZZ'" in result.output
    assert transfers(app) == []


def test_nothing_left_to_pay_needs_an_explicit_amount(app, runner, intent):
    assert runner.invoke(args=["payments", "simulate-transfer", intent.reference_code]).exit_code == 0
    result = runner.invoke(args=["payments", "simulate-transfer", intent.reference_code])
    assert result.exit_code != 0 and "nothing left to pay" in result.output
    assert len(transfers(app)) == 1


def test_unreachable_url_is_a_clear_error(app, runner, intent):
    result = runner.invoke(args=["payments", "simulate-transfer", intent.reference_code, "--url",
                                 "http://127.0.0.1:9"])
    assert result.exit_code != 0 and "Could not reach" in result.output
    assert intent_state(app, intent.public_id)["status"] == "requires_action"


def test_a_refused_delivery_fails_the_command(app, runner, intent, live_server, monkeypatch):
    """The server checks a different key than the one the command signs with."""
    original = app.config["SEPAY_API_KEY"]
    monkeypatch.setitem(app.config, "SEPAY_API_KEY", "the-server-expects-this")
    monkeypatch.setitem(app.config, "SEPAY_WEBHOOK_SECRET", None)
    import app.payments.bank.simulate as simulate

    monkeypatch.setattr(simulate, "_auth_headers", lambda body, account: {"Authorization": f"Apikey {original}"})
    result = runner.invoke(args=["payments", "simulate-transfer", intent.reference_code, "--url", live_server])
    assert result.exit_code != 0
    assert "HTTP 401" in result.output and "did not accept" in result.output
    assert transfers(app) == []


def test_simulate_refund_transfer_completes_the_refund(app, runner, intent):
    from app.extensions import db
    from app.payments import refunds
    from app.payments.models import PaymentIntent
    from tenants.scoping import tenant_context

    assert runner.invoke(args=["payments", "simulate-transfer", intent.reference_code, "200000"]).exit_code == 0
    with app.app_context(), tenant_context(intent.tenant_id):
        refund = refunds.create_refund(db.session.get(PaymentIntent, intent.id), 50_000)
        code, public_id = refund.reference_code, refund.public_id
        db.session.commit()
    result = runner.invoke(args=["payments", "simulate-refund-transfer", code.lower()])
    assert result.exit_code == 0, result.output
    assert "SIMULATION" in result.output and f"Refund {public_id} ({code}): succeeded" in result.output
    out = [t for t in transfers(app) if t["status"] == "outgoing"]
    assert [(t["amount"], t["content"]) for t in out] == [(50_000, f"SIMULATION {code} hoan tien")]
    unknown = runner.invoke(args=["payments", "simulate-refund-transfer", "HTNOSUCH22"])
    assert unknown.exit_code != 0 and "No refund has the reference code" in unknown.output
